"""Output shapes of the detection API (module level: the OpenAPI component names are these)."""

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from detection.pipeline.types import REASON_CODES

from .models import JobStatus, ModelState, Profile, Verdict
from .selectors import job_face_size, person_face_sides, scores_visible_to


class NullIfBlankChoiceField(serializers.ChoiceField):
    """Blank choice columns ("not decided yet") answer null, never ""."""

    def __init__(self, **kwargs):
        super().__init__(allow_null=True, **kwargs)

    def to_representation(self, value):
        return value or None


def _absolute(request, path: str) -> str:
    return request.build_absolute_uri(path) if request is not None else path


class BandSerializer(serializers.Serializer):
    """A band (low, high): fake from `high`, real below `low`, uncertain in between."""

    low = serializers.FloatField(help_text="Real below this.")
    high = serializers.FloatField(help_text="Fake from this.")

    def to_representation(self, band):
        low, high = band
        return {"low": low, "high": high}


class ModelVersionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    version = serializers.CharField()
    state = serializers.ChoiceField(
        choices=ModelState.choices,
        help_text="`active` decides new analyses; `shadow` scores them beside it and decides "
        "nothing; `candidate` is registered; `retired` was active before.",
    )
    is_active = serializers.BooleanField(help_text="New analyses use the active version.")
    architecture = serializers.CharField(source="serving.architecture")
    input_size = serializers.IntegerField(source="serving.input_size")
    channels = serializers.IntegerField(source="serving.channels")
    fake_threshold = serializers.FloatField(source="serving.fake_threshold")
    uncertain_low = serializers.FloatField(
        source="serving.uncertain_low", help_text="A face is real below this."
    )
    uncertain_high = serializers.FloatField(
        source="serving.uncertain_high", help_text="A face is fake from this."
    )
    video_calibration_a = serializers.FloatField(
        source="serving.video_calibration_a",
        allow_null=True,
        help_text="Video calibration, p = sigmoid(a * mean logit + b), for "
        "people and videos; null: they use the face calibration.",
    )
    video_calibration_b = serializers.FloatField(
        source="serving.video_calibration_b", allow_null=True
    )
    video_uncertain_low = serializers.FloatField(
        source="video_uncertain_low_effective",
        help_text="A video is real below this (the face band's when it has none of its own).",
    )
    video_uncertain_high = serializers.FloatField(
        source="video_uncertain_high_effective", help_text="A video is fake from this."
    )
    video_band = BandSerializer(
        help_text="The band a video's verdict uses (the job's `verdict`): the video band, or the "
        "face band when the version has none of its own."
    )
    face_band = BandSerializer(help_text="The band a face's (and a frame's) score is read against.")
    test_time_flip = serializers.BooleanField(
        source="serving.test_time_flip",
        help_text="Each face is scored with its mirror image (logits averaged).",
    )
    person_pooling = serializers.CharField(
        source="serving.person_pooling",
        help_text="How a person's faces make their probability: `mean_probability` or `mean_logit`.",
    )
    weights_sha256 = serializers.CharField(
        source="serving.weights_sha256", help_text="SHA-256 of its weights file."
    )
    serving_sha256 = serializers.CharField(
        source="serving.serving_sha256",
        help_text="SHA-256 of its LiteRT serving file (empty: it serves the weights file).",
    )
    derived_from = serializers.IntegerField(
        source="derived_from_id",
        allow_null=True,
        help_text="The id of the version whose weights it serves with new numbers.",
    )
    metrics = serializers.DictField(help_text="Evaluation results recorded at training time.")
    notes = serializers.CharField()
    trained_at = serializers.CharField()
    created_at = serializers.DateTimeField()


class ModelVersionBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    version = serializers.CharField()
    is_active = serializers.BooleanField()
    video_band = BandSerializer(help_text="The band the job's `verdict` was read against.")
    face_band = BandSerializer(help_text="The band a face's (and a frame's) score is read against.")


class VideoSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    original_name = serializers.CharField()
    size_bytes = serializers.IntegerField()
    sha256 = serializers.CharField()
    uploaded_by = serializers.CharField(source="uploaded_by.username")
    created_at = serializers.DateTimeField()
    duration_s = serializers.FloatField(allow_null=True)
    width = serializers.IntegerField(allow_null=True)
    height = serializers.IntegerField(allow_null=True)
    fps = serializers.FloatField(allow_null=True)
    frame_count = serializers.IntegerField(allow_null=True)
    codec = serializers.CharField()


class ModerationStateSerializer(serializers.Serializer):
    state = serializers.CharField(
        help_text="The review item's state, e.g. `flagged`, `confirmed_fake`, `overturned_real`."
    )
    status = serializers.CharField(source="public_status", help_text="What the uploader is told.")
    updated_at = serializers.DateTimeField()


class StatementPartSerializer(serializers.Serializer):
    person_index = serializers.IntegerField(allow_null=True, help_text="0-based, as `persons`.")
    start_s = serializers.FloatField(allow_null=True)
    end_s = serializers.FloatField(allow_null=True)
    text = serializers.CharField(help_text="In words, e.g. `Person 2, 00:12–00:19`.")


class StatementSerializer(serializers.Serializer):
    """What the uploader is told about a moderator's decision (never who made it)."""

    decision = serializers.ChoiceField(choices=["manipulated", "authentic"])
    reason = serializers.CharField(help_text="The decision's reason code.")
    reason_label = serializers.CharField()
    part = StatementPartSerializer(help_text="The part of the video the decision is about.")
    decided_at = serializers.DateTimeField()
    appealable = serializers.BooleanField()
    how_to_appeal = serializers.CharField()


class ModerationDetailSerializer(ModerationStateSerializer):
    statement = StatementSerializer(
        source="statement_of_reasons",
        allow_null=True,
        help_text="Once a moderator decided: the statement of reasons.",
    )


class JobSerializer(serializers.Serializer):
    """A job as listed: status and headline result, without the per-frame scores."""

    id = serializers.UUIDField()
    url = serializers.SerializerMethodField()
    status = serializers.ChoiceField(choices=JobStatus.choices)
    verdict = NullIfBlankChoiceField(choices=Verdict.choices)
    fake_probability = serializers.FloatField(allow_null=True)
    client_reference = serializers.CharField()
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    video = VideoSerializer()
    model_version = ModelVersionBriefSerializer(allow_null=True)
    moderation = serializers.SerializerMethodField()

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, job) -> str:
        return _absolute(self.context.get("request"), reverse("api:job-detail", args=[job.id]))

    @extend_schema_field(ModerationStateSerializer(allow_null=True))
    def get_moderation(self, job):
        review = getattr(job, "review", None)  # present once the moderation app routed it
        return ModerationStateSerializer(review).data if review is not None else None


class BoxSerializer(serializers.Serializer):
    x = serializers.IntegerField(source="box_x")
    y = serializers.IntegerField(source="box_y")
    w = serializers.IntegerField(source="box_w")
    h = serializers.IntegerField(source="box_h")


class FaceSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    box = BoxSerializer(source="*")
    raw_score = serializers.FloatField()
    fake_probability = serializers.FloatField()
    person = serializers.SerializerMethodField(help_text="Index of the tracked person, if any.")

    def get_person(self, face) -> int | None:
        person = getattr(face, "person", None)
        return person.index if person is not None else None


class FrameSerializer(serializers.Serializer):
    frame_index = serializers.IntegerField()
    timestamp_s = serializers.FloatField()
    fake_probability = serializers.FloatField(
        allow_null=True, help_text="The frame's most suspicious face; null without a face."
    )
    faces = FaceSerializer(many=True)


class BranchScoreSerializer(serializers.Serializer):
    logit = serializers.FloatField(help_text="The branch's mean logit over the person's faces.")
    probability = serializers.FloatField(help_text="The branch's own calibrated probability.")


class BranchesSerializer(serializers.Serializer):
    """A fused version's evidence for one person; empty for a single-branch version."""

    blend = BranchScoreSerializer(
        required=False, help_text="The face-swap / blending branch (self-blended training)."
    )
    synthesis = BranchScoreSerializer(
        required=False, help_text="The generated-face branch (trained on generator outputs)."
    )
    fused = BranchScoreSerializer(
        required=False, help_text="The learned combiner: the person's probability."
    )
    contributions = serializers.DictField(
        child=serializers.FloatField(),
        required=False,
        help_text="Each combiner input's share of the fused logit (weight x value).",
    )
    outlier_distance = serializers.FloatField(
        required=False, help_text="How far the person's faces sit from the training sources."
    )


class SegmentSerializer(serializers.Serializer):
    start_s = serializers.FloatField()
    end_s = serializers.FloatField()
    probability = serializers.FloatField(
        help_text="The highest fused probability of a 3-frame stretch inside the range."
    )


class ReasonSerializer(serializers.Serializer):
    code = serializers.ChoiceField(choices=sorted(REASON_CODES.items()))
    message = serializers.CharField(help_text="The reason in words, with its figures.")


class PersonSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    fake_probability = serializers.FloatField()
    frames_seen = serializers.IntegerField()
    counts_for_video = serializers.BooleanField()
    branches = BranchesSerializer(help_text="Each branch's score (fused versions).")
    segments = SegmentSerializer(
        many=True, help_text="Time ranges where this person looks confidently fake."
    )
    face_px = serializers.SerializerMethodField(
        help_text="Median side of the person's face boxes, in the video's pixels."
    )

    def get_face_px(self, person) -> int | None:
        return (self.context.get("face_sides") or {}).get(person.id)


class FaceSizeSerializer(serializers.Serializer):
    px = serializers.IntegerField(
        help_text="Median side of the deciding person's face boxes, in the video's pixels."
    )
    model_px = serializers.IntegerField(
        help_text="A face box's side inside the model's input: smaller faces are scaled up."
    )
    small = serializers.BooleanField(
        help_text="The faces were smaller than the model looks at: verdicts on small, "
        "recompressed faces are less reliable (see the model card)."
    )


class JobDetailSerializer(JobSerializer):
    """A job with timings and, when done, the full result."""

    error_code = serializers.CharField()
    error = serializers.CharField()
    callback_url = serializers.CharField()
    timings = serializers.DictField(
        child=serializers.FloatField(), help_text="Seconds per pipeline stage."
    )
    seconds_total = serializers.FloatField(allow_null=True)
    frames_sampled = serializers.IntegerField(allow_null=True)
    frames_with_face = serializers.IntegerField(allow_null=True)
    faces_scored = serializers.IntegerField(allow_null=True)
    frames = FrameSerializer(
        many=True,
        help_text="Empty for uploaders when the site hides per-frame scores (see `scores_hidden`).",
    )
    persons = serializers.SerializerMethodField()
    face_size = serializers.SerializerMethodField()
    profile = serializers.ChoiceField(choices=Profile.choices)
    reasons = ReasonSerializer(
        many=True,
        help_text="Why the verdict is uncertain, or why a video that would have been "
        "cleared goes to review (a fake stretch, a brief fake person).",
    )
    scores_hidden = serializers.SerializerMethodField(
        help_text="True: this account sees the verdict and the statement of reasons, not the "
        "per-frame scores, persons' scores or face crops."
    )

    def _scores_visible(self) -> bool:
        request = self.context.get("request")
        return request is None or scores_visible_to(request.user)

    def get_scores_hidden(self, job) -> bool:
        return not self._scores_visible()

    def to_representation(self, job):
        data = super().to_representation(job)
        if not self._scores_visible():
            data["frames"], data["persons"] = [], []
            # The reasons' codes stay, in general words: their messages carry scores and times.
            data["reasons"] = [
                {"code": r["code"], "message": REASON_CODES[r["code"]]} for r in data["reasons"]
            ]
        return data

    @extend_schema_field(ModerationDetailSerializer(allow_null=True))
    def get_moderation(self, job):
        review = getattr(job, "review", None)
        return ModerationDetailSerializer(review).data if review is not None else None

    @extend_schema_field(PersonSerializer(many=True))
    def get_persons(self, job):
        persons = getattr(job, "persons", None)  # per-person tracking, when the model has it
        if persons is None:
            return []
        return PersonSerializer(
            persons.all(), many=True, context={"face_sides": self._face_sides(job)}
        ).data

    @extend_schema_field(FaceSizeSerializer(allow_null=True))
    def get_face_size(self, job):
        size = job_face_size(job, self._face_sides(job))
        return FaceSizeSerializer(size).data if size is not None else None

    def _face_sides(self, job) -> dict:
        """The job's face sizes per person, read once for both fields that use them."""
        cache = self.__dict__.setdefault("_sides", {})
        if job.pk not in cache:
            cache[job.pk] = person_face_sides(job)
        return cache[job.pk]


class UploadResultSerializer(serializers.Serializer):
    duplicate = serializers.BooleanField(
        help_text="True: this account sent the same file before; `job` is that analysis."
    )
    job = JobSerializer()
