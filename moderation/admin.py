"""Read-only history in the admin site: decisions are made in the queue, never edited here."""

from django.contrib import admin

from .models import HeatmapOverlay, ReviewEvent, ReviewItem, SecondReview


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReviewEventInline(admin.TabularInline):
    model = ReviewEvent
    extra = 0
    can_delete = False
    fields = (
        "created_at",
        "actor",
        "from_state",
        "to_state",
        "reason",
        "note",
        "model_score",
        "person_index",
        "start_s",
        "end_s",
    )
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ReviewItem)
class ReviewItemAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "job",
        "state",
        "model_score",
        "model_version",
        "claimed_by",
        "assigned_to",
        "assigned_team",
        "due_at",
        "known_answer",
        "created_at",
        "updated_at",
    )
    list_filter = ("state", "model_version", "assigned_team")
    search_fields = (
        "job__video__original_name",
        "job__video__sha256",
        "job__video__uploaded_by__username",
    )
    inlines = [ReviewEventInline]


@admin.register(ReviewEvent)
class ReviewEventAdmin(ReadOnlyAdmin):
    list_display = (
        "created_at",
        "item",
        "actor",
        "from_state",
        "to_state",
        "reason",
        "model_score",
    )
    list_filter = ("to_state", "reason")
    search_fields = ("note", "actor__username")


@admin.register(HeatmapOverlay)
class HeatmapOverlayAdmin(ReadOnlyAdmin):
    list_display = ("face", "model_version", "created_at")


@admin.register(SecondReview)
class SecondReviewAdmin(ReadOnlyAdmin):
    list_display = (
        "created_at",
        "item",
        "first_moderator",
        "first_decision",
        "first_reason",
        "second_moderator",
        "second_decision",
        "second_reason",
    )
    list_filter = ("first_decision", "second_decision")
