"""Read-only history in the admin site: decisions are made in the queue, never edited here.

Model versions' lifecycle steps live here too (they rest on the moderators' decisions): the
detection app's ModelVersionAdmin is replaced by a subclass with shadow runs, promotion and
rollback, each with a reason, each audited.
"""

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from detection.admin import ModelVersionAdmin as DetectionModelVersionAdmin
from detection.models import ModelState, ModelVersion, ModelVersionEvent
from detection.services import (
    model_version_previous_active,
    model_version_rollback,
    model_version_set_state,
)

from .models import HeatmapOverlay, ReviewEvent, ReviewItem, SecondReview
from .selectors import shadow_comparison
from .services import PromotionRefused, model_version_promote


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


# --- Model versions: shadow, promote, roll back ------------------------------------------------


class ModelVersionEventInline(admin.TabularInline):
    model = ModelVersionEvent
    fk_name = "model_version"
    extra = 0
    can_delete = False
    fields = ("created_at", "action", "actor", "reason", "override_reason", "replaced")
    readonly_fields = fields
    ordering = ("-created_at", "-id")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class PromoteForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Why this version should decide new analyses (kept in its history).",
    )
    override = forms.BooleanField(
        required=False, label="Promote even though the figures say it is worse or unproven"
    )
    override_reason = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Required with the override: why the figures should not decide.",
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("override") and not (cleaned.get("override_reason") or "").strip():
            self.add_error("override_reason", "An override needs its own reason.")
        return cleaned


class RollbackForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Why the active version is rolled back (kept in both versions' history).",
    )


class ModelVersionLifecycleAdmin(DetectionModelVersionAdmin):
    """The registry with its lifecycle: start or stop a shadow run (list actions), promote a
    shadow version after its comparison, roll back to the version active before."""

    change_form_template = "admin/detection/modelversion/lifecycle_change_form.html"
    change_list_template = "admin/detection/modelversion/lifecycle_change_list.html"
    inlines = [ModelVersionEventInline]
    actions = ["shadow_start", "shadow_stop"]

    def get_inlines(self, request, obj):
        # A version being added has no history yet.
        return self.inlines if obj is not None else []

    def _require_lifecycle_permission(self, request):
        if not request.user.has_perm("detection.change_modelversion"):
            raise PermissionDenied

    def get_urls(self):
        own = [
            path(
                "<path:object_id>/promote/",
                self.admin_site.admin_view(self.promote_view),
                name="detection_modelversion_promote",
            ),
            path(
                "rollback/",
                self.admin_site.admin_view(self.rollback_view),
                name="detection_modelversion_rollback",
            ),
        ]
        return own + super().get_urls()

    def _states(self, request, queryset, state: str, done: str):
        self._require_lifecycle_permission(request)
        for version in queryset:
            try:
                model_version_set_state(
                    model_version=version, state=state, by=request.user, reason=done
                )
            except ValidationError as exc:
                self.message_user(request, " ".join(exc.messages), messages.ERROR)
            else:
                self.message_user(request, f"{version}: {done}.", messages.SUCCESS)

    @admin.action(description="Start shadow run (score new uploads beside the active version)")
    def shadow_start(self, request, queryset):
        self._states(request, queryset, ModelState.SHADOW, "shadow run started")

    @admin.action(description="Stop shadow run (back to candidate; its scores are kept)")
    def shadow_stop(self, request, queryset):
        self._states(
            request,
            queryset.filter(state=ModelState.SHADOW),
            ModelState.CANDIDATE,
            "shadow run stopped",
        )

    def promote_view(self, request, object_id):
        self._require_lifecycle_permission(request)
        candidate = get_object_or_404(ModelVersion, pk=object_id)
        comparison = shadow_comparison(candidate=candidate)
        shortfalls = comparison.shortfalls(min_decided=settings.MODEL_PROMOTION_MIN_DECIDED)
        refusal = ""
        form = PromoteForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                model_version_promote(
                    candidate=candidate,
                    by=request.user,
                    reason=form.cleaned_data["reason"],
                    override_reason=form.cleaned_data["override_reason"]
                    if form.cleaned_data["override"]
                    else "",
                )
            except PromotionRefused as exc:
                refusal = " ".join(exc.messages)
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                self.message_user(request, f"{candidate} is now the active version.")
                return redirect(reverse("admin:detection_modelversion_change", args=[candidate.pk]))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"Promote {candidate}",
            "candidate": candidate,
            "comparison": comparison,
            "shortfalls": shortfalls,
            "refusal": refusal,
            "show_override": bool(shortfalls or refusal),
            "min_decided": settings.MODEL_PROMOTION_MIN_DECIDED,
            "form": form,
        }
        return TemplateResponse(request, "admin/detection/modelversion/promote.html", context)

    def rollback_view(self, request):
        self._require_lifecycle_permission(request)
        current = ModelVersion.objects.filter(state=ModelState.ACTIVE).first()
        previous = model_version_previous_active(current=current) if current else None
        form = RollbackForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                restored = model_version_rollback(
                    by=request.user, reason=form.cleaned_data["reason"]
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                self.message_user(request, f"Rolled back: {restored} is active again.")
                return redirect(reverse("admin:detection_modelversion_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Roll back the active version",
            "current": current,
            "previous": previous,
            "form": form,
        }
        return TemplateResponse(request, "admin/detection/modelversion/rollback.html", context)


admin.site.unregister(ModelVersion)
admin.site.register(ModelVersion, ModelVersionLifecycleAdmin)
