from dataclasses import replace

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied

from detection.pipeline.spec import ModelSpec

from . import services
from .models import (
    AnalysisJob,
    FaceResult,
    FrameResult,
    ModelVersion,
    ModelVersionFrozen,
    Video,
)
from .training.report.model_card import auc_text


class ModelVersionForm(forms.ModelForm):
    """A release from the admin: the spec JSON (as `register_model` takes it, weights paths
    relative to the project folder or absolute), its card and metrics. Checked like a
    registration: the spec's fields and rules, the weights present, their SHA-256 pinned."""

    class Meta:
        model = ModelVersion
        fields = ("spec", "metrics", "card", "notes", "trained_at")

    def clean(self):
        cleaned = super().clean()
        config = cleaned.get("spec")
        if config is None:
            return cleaned
        try:
            spec = ModelSpec.check(config)
        except (ValueError, TypeError) as exc:
            raise forms.ValidationError({"spec": str(exc)}) from exc
        editing = self.instance.pk is not None
        if editing and (spec.name, spec.version) != (self.instance.name, self.instance.version):
            raise forms.ValidationError(
                {"spec": f"this record is {self.instance}: another name or number is a release"}
            )
        taken = ModelVersion.objects.filter(name=spec.name, version=spec.version)
        if not editing and taken.exists():
            raise forms.ValidationError(
                {
                    "spec": f"{spec.name} v{spec.version} is already registered: a release needs "
                    "a new version number."
                }
            )
        # The files are here and are the pinned ones; a pin the spec leaves out is filled in.
        cleaned["spec"] = {**config, **services.model_version_pins(spec=spec)}
        self.instance.name, self.instance.version = spec.name, spec.version
        cleaned["parsed_spec"] = spec
        return cleaned


@admin.register(ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin):
    """Versions are released here or with `manage.py register_model`; a version that has
    analysed anything is shown read-only (changing a number is a new version)."""

    form = ModelVersionForm
    list_display = (
        "name",
        "version",
        "state",
        "architecture",
        "face_band_text",
        "video_band_text",
        "frame_auc",
        "video_auc",
        "weights_text",
        "created_at",
    )
    list_filter = ("state",)
    readonly_fields = (
        "name",
        "version",
        "state",
        "derived_from",
        "created_at",
        "spec_summary",
        "fusion_summary",
        "weights_text",
    )

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ("state",)
        if obj.is_used:
            return [f.name for f in ModelVersion._meta.fields] + list(self.readonly_fields)
        return self.readonly_fields

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("spec", "metrics", "card", "notes", "trained_at")
        return super().get_fields(request, obj)

    def has_change_permission(self, request, obj=None):
        # Its page stays viewable; a used version's is read-only (Django shows no save).
        if obj is not None and obj.is_used:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.is_used:
            return False
        return super().has_delete_permission(request, obj)

    def save_model(self, request, obj, form, change):
        if change:
            try:
                obj.save()
            except ModelVersionFrozen as exc:
                raise PermissionDenied(str(exc)) from exc
            return
        spec = form.cleaned_data["parsed_spec"]
        spec = replace(
            spec,
            metrics=form.cleaned_data.get("metrics") or {},
            notes=form.cleaned_data.get("notes") or "",
            trained_at=form.cleaned_data.get("trained_at") or "",
        )
        created = services.model_version_create(spec=spec, card=form.cleaned_data.get("card", ""))
        obj.pk = created.pk
        obj.refresh_from_db()

    def delete_model(self, request, obj):
        try:
            obj.delete()
        except ModelVersionFrozen as exc:
            raise PermissionDenied(str(exc)) from exc

    @admin.display(description="face band")
    def face_band_text(self, obj):
        low, high = obj.face_band
        return f"{low}–{high}"

    @admin.display(description="video band")
    def video_band_text(self, obj):
        low, high = obj.video_band
        return f"{low}–{high}" + (
            "" if obj.serving.video_calibration_a is None else " (calibrated)"
        )

    @admin.display(description="weights")
    def weights_text(self, obj):
        sha = obj.spec.get("serving_sha256") or obj.spec.get("weights_sha256") or ""
        where = "on this server" if obj.weights_present else "archived (import_model)"
        return f"{sha[:12]}… {where}" if sha else where

    @admin.display(description="spec")
    def spec_summary(self, obj):
        s = obj.serving
        return (
            f"{s.architecture}, {s.input_size} px {'RGB' if s.channels == 3 else 'grey'}, "
            f"margin {s.face_margin}; face calibration a={s.calibration_a:.4g} "
            f"b={s.calibration_b:+.4g}, face band {s.uncertain_low}–{s.uncertain_high} "
            f"(threshold {s.fake_threshold}); video band {s.video_band[0]}–{s.video_band[1]}; "
            f"pooling {s.person_pooling}{', mirror view' if s.test_time_flip else ''}; "
            f"weights {s.weights_file}"
        )

    @admin.display(description="fusion")
    def fusion_summary(self, obj):
        """A fused version's combiner and rules in a line (its weights live in the spec)."""
        fusion = obj.serving.fusion
        if not fusion:
            return "– (a single blending classifier)"
        comb = fusion["combiner"]
        terms = ", ".join(
            f"{n} x {w:+.3g}" for n, w in zip(comb["inputs"], comb["weights"], strict=True)
        )
        return (
            f"combiner: {terms}, bias {comb['bias']:+.3g}; synthesis head on "
            f"{fusion['synthesis'].get('features', '?')} "
            f"({len(fusion['synthesis']['weights'])} weights); fake stretch from "
            f"p {fusion['stretch_fake_from']:.3f}; faces under "
            f"{fusion['min_face_px']:.0f} px and under "
            f"{fusion['min_bits_per_pixel']:.4f} bits/pixel are uncertain"
        )

    # With its 95% interval: the video figure rests on a few dozen clips.
    @admin.display(description="frame AUC (95% interval)")
    def frame_auc(self, obj):
        return auc_text(obj.metrics.get("frames") or {})

    @admin.display(description="video AUC (95% interval)")
    def video_auc(self, obj):
        return auc_text((obj.metrics.get("videos") or {}).get("overall") or {})


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
