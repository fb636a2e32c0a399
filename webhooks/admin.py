from django.contrib import admin

from .models import WebhookDelivery, WebhookEvent


class WebhookDeliveryInline(admin.TabularInline):
    model = WebhookDelivery
    extra = 0
    can_delete = False
    readonly_fields = (
        "attempt",
        "started_at",
        "finished_at",
        "status_code",
        "error",
        "response_excerpt",
    )

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(WebhookEvent)
class WebhookEventAdmin(admin.ModelAdmin):
    """Read-only: the delivery log is evidence of what was sent when."""

    list_display = (
        "id",
        "type",
        "job",
        "state",
        "attempts",
        "next_attempt_at",
        "created_at",
        "delivered_at",
    )
    list_filter = ("type", "state")
    search_fields = ("id", "job__id", "url")
    readonly_fields = [f.name for f in WebhookEvent._meta.fields]
    inlines = [WebhookDeliveryInline]

    def has_add_permission(self, request):
        return False
