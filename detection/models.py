import uuid
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from detection.pipeline.spec import ModelSpec

from .append_only import AppendOnlyError, AppendOnlyModel

VIDEO_SUFFIXES = {
    ".mp4",
    ".m4v",
    ".mov",
    ".avi",
    ".mkv",
    ".webm",
    ".mpg",
    ".mpeg",
    ".wmv",
    ".3gp",
    ".flv",
    ".ts",
}


def video_upload_to(instance: "Video", filename: str) -> str:
    # Stored under a generated name: the client's file name is kept only as a label.
    suffix = Path(filename).suffix.lower()
    suffix = suffix if suffix in VIDEO_SUFFIXES else ".bin"
    now = timezone.now()
    return f"videos/{now:%Y/%m}/{instance.id}{suffix}"


class ModelState(models.TextChoices):
    CANDIDATE = "candidate", "Candidate (registered, scores nothing)"
    SHADOW = "shadow", "Shadow (scores uploads beside the active version; decides nothing)"
    ACTIVE = "active", "Active (decides new analyses)"
    RETIRED = "retired", "Retired"


class ModelVersionFrozen(ValidationError):
    """A version that has analysed anything keeps its spec, numbers and card for good."""


# What a version may still change once it has analysed something: where it stands.
MUTABLE_ONCE_USED = frozenset({"state"})


class ModelVersionQuerySet(models.QuerySet):
    def used(self):
        """Versions that have analysed anything (a job, or a shadow score)."""
        return self.filter(Q(jobs__isnull=False) | Q(shadow_results__isnull=False)).distinct()

    def update(self, **kwargs):
        frozen = set(kwargs) - MUTABLE_ONCE_USED
        if frozen and self.filter(pk__in=self.model.objects.used().values("pk")).exists():
            raise ModelVersionFrozen(
                f"{', '.join(sorted(frozen))}: a version that has analysed videos cannot be "
                "changed; register a new version instead."
            )
        return super().update(**kwargs)

    def delete(self):
        if self.filter(pk__in=self.model.objects.used().values("pk")).exists():
            raise ModelVersionFrozen(
                "A version that has analysed videos cannot be deleted: its analyses refer to it. "
                "Retire it instead."
            )
        return super().delete()


class ModelVersion(models.Model):
    """A trained face classifier and how to use it: a name, a version, a state, one spec.

    `spec` is the pipeline's `ModelSpec` serving config (`ModelSpec.serving_config()`), checked
    on save; metrics, card and notes describe it. Once it has analysed anything a version is
    immutable (only its state moves): changing a threshold or a calibration is a new version.
    """

    name = models.CharField(max_length=64)
    version = models.CharField(max_length=32)
    state = models.CharField(
        max_length=16, choices=ModelState.choices, default=ModelState.CANDIDATE, db_index=True
    )
    spec = models.JSONField(
        help_text="The serving config (detection.pipeline.spec.ModelSpec, without metrics, "
        "notes and training date). Weights paths are relative to the project folder or absolute."
    )
    metrics = models.JSONField(default=dict, blank=True)
    card = models.TextField(blank=True, help_text="The model card (Markdown).")
    notes = models.TextField(blank=True)
    trained_at = models.CharField(max_length=40, blank=True)
    derived_from = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="derived",
        help_text="The version whose weights this one serves with new numbers.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ModelVersionQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["name", "version"], name="unique_model_name_version"),
            # The database itself guarantees at most one active version.
            models.UniqueConstraint(
                fields=["state"], condition=Q(state="active"), name="one_active_model_version"
            ),
        ]

    def __str__(self):
        return f"{self.name} v{self.version}" + (" (active)" if self.is_active else "")

    # --- the record -------------------------------------------------------------------------

    @property
    def is_active(self) -> bool:
        return self.state == ModelState.ACTIVE

    @property
    def is_used(self) -> bool:
        """Whether it has analysed anything: then it is immutable."""
        if self.pk is None:
            return False
        return self.jobs.exists() or self.shadow_results.exists()

    def _frozen_changes(self) -> list[str]:
        stored = type(self).objects.filter(pk=self.pk).values().first()
        if stored is None:
            return []
        return [
            f.attname
            for f in self._meta.concrete_fields
            if f.attname not in MUTABLE_ONCE_USED
            and f.name != "created_at"
            and stored[f.attname] != getattr(self, f.attname)
        ]

    def save(self, *args, **kwargs):
        if self.pk is not None and self.is_used:
            changed = self._frozen_changes()
            if changed:
                raise ModelVersionFrozen(
                    f"{self} has analysed videos and cannot change ({', '.join(changed)}). "
                    "Register a new version with the new numbers."
                )
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if self.is_used:
            raise ModelVersionFrozen(
                f"{self} has analysed videos and cannot be deleted: retire it instead."
            )
        return super().delete(*args, **kwargs)

    def clean(self):
        try:
            serving = self.serving
        except (ValueError, TypeError) as exc:
            raise ValidationError({"spec": str(exc)}) from exc
        if (serving.name, serving.version) != (self.name, self.version):
            raise ValidationError(
                {"spec": f"the spec is {serving.name} v{serving.version}, not {self}"}
            )
        if self.pk is not None and self.is_used and self._frozen_changes():
            raise ModelVersionFrozen(f"{self} has analysed videos and cannot be changed.")

    # --- reading the spec -------------------------------------------------------------------

    @property
    def serving(self) -> ModelSpec:
        """The spec as stored (paths as written), checked; raises ValueError if it is not valid."""
        cached = self.__dict__.get("_serving")
        if cached is None or cached[0] != self.spec:
            spec = ModelSpec.check(self.spec)
            self.__dict__["_serving"] = (self.spec, spec)
            return spec
        return cached[1]

    def resolve(self, path: str) -> Path:
        p = Path(path)
        return p if p.is_absolute() else Path(settings.BASE_DIR) / p

    @property
    def resolved_weights_path(self) -> Path:
        return self.resolve(self.serving.weights_file)

    @property
    def weights_present(self) -> bool:
        """Whether its weights are on this server (a retired version's may be archived)."""
        return self.resolved_weights_path.is_file()

    @property
    def architecture(self) -> str:
        return self.serving.architecture

    @property
    def fake_threshold(self) -> float:
        return self.serving.fake_threshold

    @property
    def uncertain_low(self) -> float:
        return self.serving.uncertain_low

    @property
    def uncertain_high(self) -> float:
        return self.serving.uncertain_high

    @property
    def face_band(self) -> tuple[float, float]:
        """(low, high) of the band a face's or a frame's verdict uses."""
        return self.serving.face_band

    @property
    def video_band(self) -> tuple[float, float]:
        """(low, high) of the band a video's verdict uses."""
        return self.serving.video_band

    @property
    def video_uncertain_low_effective(self) -> float:
        return self.video_band[0]

    @property
    def video_uncertain_high_effective(self) -> float:
        return self.video_band[1]

    def to_spec(self) -> ModelSpec:
        """The full spec the pipeline runs, with the weights path made absolute."""
        return ModelSpec.from_dict(
            {
                **self.spec,
                "weights_file": str(self.resolved_weights_path),
                "metrics": self.metrics,
                "notes": self.notes,
                "trained_at": self.trained_at,
            }
        )


class Video(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    file = models.FileField(upload_to=video_upload_to, max_length=255)
    original_name = models.CharField(
        max_length=255, help_text="The client's file name (label only)."
    )
    size_bytes = models.BigIntegerField()
    sha256 = models.CharField(max_length=64, db_index=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="videos"
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    # Filled in by the worker once the file has been opened.
    duration_s = models.FloatField(null=True, blank=True)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    fps = models.FloatField(null=True, blank=True)
    frame_count = models.PositiveIntegerField(null=True, blank=True)
    codec = models.CharField(max_length=16, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return self.original_name

    @property
    def resolution(self) -> str:
        return f"{self.width}x{self.height}" if self.width and self.height else ""


class JobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class Verdict(models.TextChoices):
    FAKE = "fake", "Fake"
    REAL = "real", "Real"
    UNCERTAIN = "uncertain", "Uncertain"
    NO_FACE = "no_face", "No face found"


class Profile(models.TextChoices):
    DEFAULT = "default", "Default (fast)"
    THOROUGH = "thorough", "Thorough (twice the frames, slower)"


class AnalysisJob(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    video = models.ForeignKey(Video, on_delete=models.CASCADE, related_name="jobs")
    model_version = models.ForeignKey(
        ModelVersion, on_delete=models.PROTECT, null=True, blank=True, related_name="jobs"
    )
    status = models.CharField(
        max_length=16, choices=JobStatus.choices, default=JobStatus.QUEUED, db_index=True
    )
    error_code = models.CharField(max_length=32, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Reliability (see detection/reconcile.py): when its broker message was last sent, how many
    # times a worker claimed it, and the running worker's last sign of life.
    enqueued_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    timings = models.JSONField(default=dict, blank=True, help_text="Seconds per pipeline stage.")
    verdict = models.CharField(max_length=16, choices=Verdict.choices, blank=True)
    fake_probability = models.FloatField(null=True, blank=True)
    frames_sampled = models.PositiveIntegerField(null=True, blank=True)
    frames_with_face = models.PositiveIntegerField(null=True, blank=True)
    faces_scored = models.PositiveIntegerField(null=True, blank=True)
    profile = models.CharField(
        max_length=16,
        choices=Profile.choices,
        default=Profile.DEFAULT,
        help_text="The speed profile the analysis runs with.",
    )
    reasons = models.JSONField(
        default=list,
        blank=True,
        help_text="Why the verdict is uncertain or was kept from clearing: [{code, message}].",
    )
    # Provenance: what exactly made this result, so re-analysing the file with the same
    # version and config gives the same result (`job_reanalyse`).
    config = models.JSONField(
        default=dict,
        blank=True,
        help_text="The analysis config it ran with (frames, face detector, looks, profile).",
    )
    frame_indices = models.JSONField(
        default=list, blank=True, help_text="The indices of the frames it sampled."
    )
    weights_sha256 = models.CharField(
        max_length=64, blank=True, help_text="SHA-256 of the model file that scored it."
    )
    reanalysis_of = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="reanalyses",
        help_text="The job this one repeats with the same version, config and frames.",
    )
    # API clients: where to POST the signed "finished" event, and their own label for the job.
    callback_url = models.URLField(max_length=2000, blank=True)
    client_reference = models.CharField(max_length=200, blank=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(fake_probability__isnull=True)
                | Q(fake_probability__gte=0, fake_probability__lte=1),
                name="job_probability_in_unit_interval",
            ),
        ]

    def __str__(self):
        return f"Analysis of {self.video} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in (JobStatus.DONE, JobStatus.FAILED)

    @property
    def seconds_total(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None


def crop_upload_to(instance: "FaceResult", filename: str) -> str:
    return f"crops/{instance.frame.job_id}/{filename}"


class FrameResult(models.Model):
    """One sampled frame of a job; its probability is its most suspicious face's."""

    job = models.ForeignKey(AnalysisJob, on_delete=models.CASCADE, related_name="frames")
    frame_index = models.PositiveIntegerField()
    timestamp_s = models.FloatField()
    fake_probability = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["job", "frame_index"]
        constraints = [
            models.UniqueConstraint(fields=["job", "frame_index"], name="unique_frame_per_job")
        ]


class PersonResult(models.Model):
    """One person tracked across a job's sampled frames."""

    job = models.ForeignKey(AnalysisJob, on_delete=models.CASCADE, related_name="persons")
    index = models.PositiveSmallIntegerField(help_text="0, 1, ... in order of first appearance")
    fake_probability = models.FloatField()
    frames_seen = models.PositiveIntegerField()
    counts_for_video = models.BooleanField(
        default=True,
        help_text="False for short tracks (likely a false detection or a passer-by), "
        "which do not decide the video's score.",
    )
    branches = models.JSONField(
        default=dict,
        blank=True,
        help_text="A fused version's evidence: each branch's logit and probability, the fused "
        "probability and each input's share.",
    )
    segments = models.JSONField(
        default=list,
        blank=True,
        help_text="Time ranges where the person looks confidently fake: [{start_s, end_s, "
        "probability}].",
    )

    class Meta:
        ordering = ["job", "index"]
        constraints = [
            models.UniqueConstraint(fields=["job", "index"], name="unique_person_per_job")
        ]

    def __str__(self):
        return f"Person {self.index + 1}"

    @property
    def label(self) -> str:
        return f"Person {self.index + 1}"


class FaceResult(models.Model):
    frame = models.ForeignKey(FrameResult, on_delete=models.CASCADE, related_name="faces")
    person = models.ForeignKey(
        PersonResult, on_delete=models.CASCADE, related_name="faces", null=True, blank=True
    )
    is_representative = models.BooleanField(
        default=False, help_text="The person's clearest (largest) view."
    )
    box_x = models.IntegerField()
    box_y = models.IntegerField()
    box_w = models.PositiveIntegerField()
    box_h = models.PositiveIntegerField()
    raw_score = models.FloatField()
    fake_probability = models.FloatField()
    crop = models.ImageField(upload_to=crop_upload_to, max_length=255)

    class Meta:
        ordering = ["frame", "-fake_probability"]


class ShadowResult(models.Model):
    """A shadow version's score of an upload, made beside the active version's analysis.

    It never changes the job, its verdict or its routing: it is stored for the comparison
    against the moderators' decisions that a promotion rests on.
    """

    job = models.ForeignKey(AnalysisJob, on_delete=models.CASCADE, related_name="shadow_results")
    model_version = models.ForeignKey(
        ModelVersion, on_delete=models.PROTECT, related_name="shadow_results"
    )
    status = models.CharField(max_length=16, choices=JobStatus.choices, default=JobStatus.QUEUED)
    verdict = models.CharField(max_length=16, choices=Verdict.choices, blank=True)
    fake_probability = models.FloatField(null=True, blank=True)
    reasons = models.JSONField(default=list, blank=True)
    config = models.JSONField(default=dict, blank=True)
    frame_indices = models.JSONField(default=list, blank=True)
    weights_sha256 = models.CharField(max_length=64, blank=True)
    timings = models.JSONField(default=dict, blank=True)
    error_code = models.CharField(max_length=32, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["job", "model_version"], name="one_shadow_result_per_job_and_version"
            ),
        ]

    def __str__(self):
        return f"{self.model_version} on {self.job_id} ({self.status})"


# Raised by an edit or a delete of a version's history.
ModelVersionEventError = AppendOnlyError


class ModelVersionAction(models.TextChoices):
    REGISTERED = "registered", "Registered"
    SHADOW_STARTED = "shadow_started", "Shadow run started"
    SHADOW_STOPPED = "shadow_stopped", "Shadow run stopped"
    PROMOTED = "promoted", "Promoted (made active)"
    ROLLED_BACK = "rolled_back", "Rolled back to (made active again)"
    RETIRED = "retired", "Retired"
    IMPORTED = "imported", "Imported from an archive"


class ModelVersionEvent(AppendOnlyModel):
    """One step in a version's life (registered, shadow, promoted, rolled back, retired), who
    took it and why. Written once, never edited or deleted."""

    model_version = models.ForeignKey(ModelVersion, on_delete=models.PROTECT, related_name="events")
    action = models.CharField(max_length=20, choices=ModelVersionAction.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Who took the step (empty: a command or the system).",
    )
    reason = models.TextField(blank=True)
    override_reason = models.TextField(
        blank=True, help_text="Why a promotion went ahead against the comparison's figures."
    )
    comparison = models.JSONField(
        null=True, blank=True, help_text="The shadow comparison a promotion rested on."
    )
    replaced = models.ForeignKey(
        ModelVersion,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="On a promotion or a rollback: the version that was active before.",
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    history_name = "A model version's history"

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.model_version}: {self.get_action_display()}"
