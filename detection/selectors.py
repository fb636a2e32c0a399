from django.db import DatabaseError
from django.db.models import QuerySet
from django.http import Http404

from .models import AnalysisJob, FaceResult, ModelVersion, Video


def model_version_active() -> ModelVersion | None:
    return ModelVersion.objects.filter(is_active=True).first()


def model_version_active_or_none_safely() -> ModelVersion | None:
    """The active version, or None when the database is missing or was never migrated."""
    try:
        return model_version_active()
    except DatabaseError:
        return None


def videos_visible_to(user) -> QuerySet[Video]:
    qs = Video.objects.all()
    return qs if user.is_moderator else qs.filter(uploaded_by=user)


def jobs_visible_to(user) -> QuerySet[AnalysisJob]:
    # "review": the job list shows each video's review status without a query per row.
    qs = AnalysisJob.objects.select_related("video", "video__uploaded_by", "model_version",
                                            "review")
    return qs if user.is_moderator else qs.filter(video__uploaded_by=user)


def job_get_for_user(user, job_id) -> AnalysisJob:
    """The job if this user may see it; 404 otherwise (never 403: do not confirm it exists)."""
    try:
        return jobs_visible_to(user).get(id=job_id)
    except (AnalysisJob.DoesNotExist, ValueError):
        raise Http404("No such analysis") from None


def face_get_for_user(user, face_id: int) -> FaceResult:
    qs = FaceResult.objects.select_related("frame__job__video")
    if not user.is_moderator:
        qs = qs.filter(frame__job__video__uploaded_by=user)
    try:
        return qs.get(id=face_id)
    except FaceResult.DoesNotExist:
        raise Http404("No such face") from None


def job_frames_with_faces(job: AnalysisJob):
    return job.frames.prefetch_related("faces").order_by("frame_index")


def job_with_results(job: AnalysisJob) -> AnalysisJob:
    """The job with its frames, faces and persons loaded in a few queries (for the API)."""
    from django.db.models import Prefetch, prefetch_related_objects

    from .models import FrameResult

    faces = FaceResult.objects.select_related("person")
    frames = FrameResult.objects.order_by("frame_index").prefetch_related(
        Prefetch("faces", queryset=faces))
    prefetch_related_objects([job], Prefetch("frames", queryset=frames), "persons")
    return job


def webhook_events_for_job(job: AnalysisJob):
    return job.webhook_events.prefetch_related("deliveries").order_by("created_at")
