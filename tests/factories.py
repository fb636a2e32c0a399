import hashlib

import factory
from django.core.files.base import ContentFile

from accounts.models import Role, User
from detection.models import (
    AnalysisJob,
    FaceResult,
    FrameResult,
    JobStatus,
    ModelState,
    ModelVersion,
    Video,
)
from detection.selectors import model_version_active

PASSWORD = "correct horse battery staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    role = Role.UPLOADER
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class VideoFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Video

    uploaded_by = factory.SubFactory(UserFactory)
    original_name = factory.Sequence(lambda n: f"clip{n}.mp4")
    file = factory.LazyAttribute(lambda v: ContentFile(b"not really a video", name=v.original_name))
    size_bytes = 18
    sha256 = hashlib.sha256(b"not really a video").hexdigest()


class JobFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AnalysisJob

    video = factory.SubFactory(VideoFactory)
    model_version = factory.LazyFunction(model_version_active)
    status = JobStatus.QUEUED


def done_job(*, uploader, verdict="fake", probability=0.9, faces=True) -> AnalysisJob:
    """A finished job with one scored frame (and face), as the worker would leave it."""
    job = JobFactory(
        video=VideoFactory(uploaded_by=uploader),
        status=JobStatus.DONE,
        verdict=verdict,
        fake_probability=probability,
        frames_sampled=1,
        frames_with_face=1 if faces else 0,
        faces_scored=1 if faces else 0,
    )
    frame = FrameResult.objects.create(
        job=job, frame_index=0, timestamp_s=0.0, fake_probability=probability if faces else None
    )
    if faces:
        face = FaceResult(
            frame=frame,
            box_x=0,
            box_y=0,
            box_w=10,
            box_h=10,
            raw_score=0.5,
            fake_probability=probability,
        )
        face.crop.save("000000_0.jpg", ContentFile(b"\xff\xd8\xff\xd9"), save=True)
    return job


def model_version_set_bands(version, *, face=(0.35, 0.65), video=(0.427, 0.673), threshold=0.5):
    """Give a model version that has analysed nothing yet known bands: its face band, its video
    band (None: it has none of its own, so videos use the face band) and its fake threshold."""
    video = video or (None, None)
    version.spec = {
        **version.spec,
        "uncertain_low": face[0],
        "uncertain_high": face[1],
        "fake_threshold": threshold,
        "video_uncertain_low": video[0],
        "video_uncertain_high": video[1],
    }
    version.save()
    return version


def model_version_like_active(
    *, name: str = "other", version: str = "2", state: str = ModelState.CANDIDATE, **changes
) -> ModelVersion:
    """A registered version serving the active version's weights, with `changes` to its spec
    (thresholds, calibration): what `model_version_derive` or a release would leave."""
    active = model_version_active()
    return ModelVersion.objects.create(
        name=name,
        version=version,
        state=state,
        spec={**active.spec, "name": name, "version": version, **changes},
        metrics=dict(active.metrics),
    )
