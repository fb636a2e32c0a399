import uuid
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from detection.pipeline.spec import PERSON_POOLINGS, ModelSpec

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


class ModelVersion(models.Model):
    """A trained face classifier plus how to use it; exactly one is active at a time."""

    name = models.CharField(max_length=64)
    version = models.CharField(max_length=32)
    architecture = models.CharField(max_length=64)
    weights_path = models.CharField(
        max_length=500,
        help_text="Path of the .keras weights file on the server, relative to the project "
        "folder or absolute.",
    )
    input_size = models.PositiveSmallIntegerField(default=64)
    channels = models.PositiveSmallIntegerField(default=1, choices=[(1, "grayscale"), (3, "RGB")])
    face_margin = models.FloatField(default=0.2)
    calibration_a = models.FloatField(default=1.0)
    calibration_b = models.FloatField(default=0.0)
    fake_threshold = models.FloatField(default=0.5)
    uncertain_low = models.FloatField(default=0.35)
    uncertain_high = models.FloatField(default=0.65)
    test_time_flip = models.BooleanField(
        default=False, help_text="Score each face and its mirror image; average the logits."
    )
    person_pooling = models.CharField(
        max_length=20,
        default="mean_probability",
        choices=list(PERSON_POOLINGS.items()),
        help_text="How a person's faces make the person's probability.",
    )
    # People and videos: a second calibration fitted on labelled videos, and its band (see
    # detection/training/evaluation/calibration.py). Empty: they use the face calibration and band.
    video_calibration_a = models.FloatField(
        null=True,
        blank=True,
        help_text="Video calibration: p = sigmoid(a * mean logit + b) for people and videos.",
    )
    video_calibration_b = models.FloatField(null=True, blank=True)
    video_uncertain_low = models.FloatField(
        null=True, blank=True, help_text="A video is real below this (empty: uncertain_low)."
    )
    video_uncertain_high = models.FloatField(
        null=True, blank=True, help_text="A video is fake from this (empty: uncertain_high)."
    )
    metrics = models.JSONField(default=dict, blank=True)
    fusion = models.JSONField(
        null=True,
        blank=True,
        help_text="A fused version's synthesis branch, combiner, stretch and quality rules "
        "(train_fusion writes it); empty for a single-branch version.",
    )
    notes = models.TextField(blank=True)
    is_active = models.BooleanField(default=False)
    trained_at = models.CharField(max_length=40, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["name", "version"], name="unique_model_name_version"),
            # The database itself guarantees at most one active version.
            models.UniqueConstraint(
                fields=["is_active"], condition=Q(is_active=True), name="one_active_model_version"
            ),
            models.CheckConstraint(
                condition=Q(uncertain_low__lte=models.F("uncertain_high"))
                & Q(uncertain_low__gte=0)
                & Q(uncertain_high__lte=1),
                name="model_uncertain_band_ordered",
            ),
            models.CheckConstraint(
                condition=(
                    Q(video_uncertain_low__isnull=True) & Q(video_uncertain_high__isnull=True)
                )
                | (
                    Q(video_uncertain_low__lte=models.F("video_uncertain_high"))
                    & Q(video_uncertain_low__gte=0)
                    & Q(video_uncertain_high__lte=1)
                ),
                name="model_video_band_ordered",
            ),
        ]

    def __str__(self):
        return f"{self.name} v{self.version}" + (" (active)" if self.is_active else "")

    @property
    def resolved_weights_path(self) -> Path:
        p = Path(self.weights_path)
        return p if p.is_absolute() else Path(settings.BASE_DIR) / p

    def clean(self):
        if not self.resolved_weights_path.is_file():
            raise ValidationError({"weights_path": f"No file at {self.resolved_weights_path}"})
        if not (0 <= self.uncertain_low <= self.fake_threshold <= self.uncertain_high <= 1):
            raise ValidationError(
                "Thresholds must satisfy 0 <= uncertain_low <= fake_threshold "
                "<= uncertain_high <= 1."
            )
        try:
            self.to_spec()  # the video calibration's own rules (pairs, slope, pooling, band)
        except ValueError as exc:
            raise ValidationError(str(exc)) from exc

    @property
    def video_band(self) -> tuple[float, float]:
        """(low, high) of the band a video's verdict uses."""
        if self.video_uncertain_low is None or self.video_uncertain_high is None:
            return self.uncertain_low, self.uncertain_high
        return self.video_uncertain_low, self.video_uncertain_high

    @property
    def face_band(self) -> tuple[float, float]:
        """(low, high) of the band a face's (and so a frame's) score is read against."""
        return self.uncertain_low, self.uncertain_high

    @property
    def video_uncertain_low_effective(self) -> float:
        return self.video_band[0]

    @property
    def video_uncertain_high_effective(self) -> float:
        return self.video_band[1]

    def to_spec(self) -> ModelSpec:
        return ModelSpec(
            name=self.name,
            version=self.version,
            architecture=self.architecture,
            weights_file=str(self.resolved_weights_path),
            input_size=self.input_size,
            channels=self.channels,
            face_margin=self.face_margin,
            calibration_a=self.calibration_a,
            calibration_b=self.calibration_b,
            fake_threshold=self.fake_threshold,
            uncertain_low=self.uncertain_low,
            uncertain_high=self.uncertain_high,
            metrics=self.metrics,
            trained_at=self.trained_at,
            notes=self.notes,
            test_time_flip=self.test_time_flip,
            person_pooling=self.person_pooling,
            video_calibration_a=self.video_calibration_a,
            video_calibration_b=self.video_calibration_b,
            video_uncertain_low=self.video_uncertain_low,
            video_uncertain_high=self.video_uncertain_high,
            fusion=self.fusion,
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
