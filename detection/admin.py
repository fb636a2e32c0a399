from django.contrib import admin, messages

from . import services
from .models import AnalysisJob, FaceResult, FrameResult, ModelVersion, Video
from .training.report.model_card import auc_text


@admin.register(ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "version",
        "architecture",
        "is_active",
        "input_size",
        "fake_threshold",
        "uncertain_low",
        "uncertain_high",
        "video_band",
        "frame_auc",
        "video_auc",
        "created_at",
    )
    list_filter = ("is_active", "architecture")
    readonly_fields = ("is_active", "created_at", "fusion_summary")
    exclude = ("fusion",)  # thousands of numbers; shown summarised, written by train_fusion
    actions = ["activate"]

    @admin.display(description="fusion")
    def fusion_summary(self, obj):
        """A fused version's combiner and rules in a line (its weights live in the spec)."""
        if not obj.fusion:
            return "– (a single blending classifier)"
        comb = obj.fusion["combiner"]
        terms = ", ".join(
            f"{n} x {w:+.3g}" for n, w in zip(comb["inputs"], comb["weights"], strict=True)
        )
        return (
            f"combiner: {terms}, bias {comb['bias']:+.3g}; synthesis head on "
            f"{obj.fusion['synthesis'].get('features', '?')} "
            f"({len(obj.fusion['synthesis']['weights'])} weights); fake stretch from "
            f"p {obj.fusion['stretch_fake_from']:.3f}; faces under "
            f"{obj.fusion['min_face_px']:.0f} px and under "
            f"{obj.fusion['min_bits_per_pixel']:.4f} bits/pixel are uncertain"
        )

    # With its 95% interval: the video figure rests on a few dozen clips.
    @admin.display(description="frame AUC (95% interval)")
    def frame_auc(self, obj):
        return auc_text(obj.metrics.get("frames") or {})

    @admin.display(description="video band")
    def video_band(self, obj):
        low, high = obj.video_band
        return f"{low}–{high}" + ("" if obj.video_calibration_a is None else " (calibrated)")

    @admin.display(description="video AUC (95% interval)")
    def video_auc(self, obj):
        return auc_text((obj.metrics.get("videos") or {}).get("overall") or {})

    @admin.action(description="Make the selected version the active one")
    def activate(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, "Select exactly one version to activate.", messages.ERROR)
            return
        version = services.model_version_activate(model_version=queryset.get())
        self.message_user(request, f"{version} is now active.", messages.SUCCESS)


class FrameResultInline(admin.TabularInline):
    model = FrameResult
    extra = 0
    can_delete = False
    readonly_fields = ("frame_index", "timestamp_s", "fake_probability")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(AnalysisJob)
class AnalysisJobAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "video",
        "status",
        "verdict",
        "fake_probability",
        "model_version",
        "created_at",
        "finished_at",
    )
    list_filter = ("status", "verdict", "model_version")
    search_fields = ("id", "video__original_name", "video__sha256", "video__uploaded_by__username")
    readonly_fields = [f.name for f in AnalysisJob._meta.fields]
    inlines = [FrameResultInline]


@admin.register(Video)
class VideoAdmin(admin.ModelAdmin):
    list_display = (
        "original_name",
        "uploaded_by",
        "size_bytes",
        "resolution",
        "duration_s",
        "created_at",
    )
    search_fields = ("original_name", "sha256", "uploaded_by__username")
    readonly_fields = [f.name for f in Video._meta.fields]


@admin.register(FaceResult)
class FaceResultAdmin(admin.ModelAdmin):
    list_display = ("id", "frame", "fake_probability", "raw_score")
    readonly_fields = [f.name for f in FaceResult._meta.fields]
