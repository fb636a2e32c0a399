from dataclasses import dataclass
from statistics import median

from django.db import DatabaseError
from django.db.models import F, Q, QuerySet
from django.http import Http404

from detection.pipeline.types import REASON_CODES

from .models import AnalysisJob, FaceResult, ModelState, ModelVersion, Video


def model_version_active() -> ModelVersion | None:
    return ModelVersion.objects.filter(state=ModelState.ACTIVE).first()


def model_version_named(label: str) -> ModelVersion | None:
    """A version by its label NAME:VERSION (e.g. "lite0_sbi:5"); None if none is registered.
    ValueError for a label without the colon."""
    name, sep, number = label.partition(":")
    if not sep:
        raise ValueError(f"name a version as NAME:VERSION, not {label!r}")
    return ModelVersion.objects.filter(name=name, version=number).first()


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
    qs = AnalysisJob.objects.select_related(
        "video", "video__uploaded_by", "model_version", "review"
    )
    return qs if user.is_moderator else qs.filter(video__uploaded_by=user)


JOB_SORTS = {
    "-uploaded": ("-created_at",),
    "uploaded": ("created_at",),
    "name": ("video__original_name", "-created_at"),
    "-name": ("-video__original_name", "-created_at"),
    "-score": (F("fake_probability").desc(nulls_last=True), "-created_at"),
    "score": (F("fake_probability").asc(nulls_last=True), "-created_at"),
}


def jobs_search(qs: QuerySet[AnalysisJob], *, text: str = "", sort: str = "") -> QuerySet:
    """Search by file name, file id (start of the SHA-256), uploader or client reference."""
    text = (text or "").strip()
    if text:
        qs = qs.filter(
            Q(video__original_name__icontains=text)
            | Q(video__sha256__istartswith=text.lstrip("#"))
            | Q(video__uploaded_by__username__iexact=text)
            | Q(client_reference__iexact=text)
        )
    return qs.order_by(*JOB_SORTS.get(sort, JOB_SORTS["-uploaded"]))


def job_get_for_user(user, job_id) -> AnalysisJob:
    """The job if this user may see it; 404 otherwise (never 403: do not confirm it exists)."""
    try:
        return jobs_visible_to(user).get(id=job_id)
    except (AnalysisJob.DoesNotExist, ValueError):
        raise Http404("No such analysis") from None


def scores_visible_to(user) -> bool:
    """Per-frame scores and face crops: moderators always; uploaders only when the site allows
    (MODERATION_HIDE_SCORES_FROM_UPLOADERS, on by default, shows them the verdict alone)."""
    from django.conf import settings

    return user.is_moderator or not settings.MODERATION_HIDE_SCORES_FROM_UPLOADERS


def face_get_for_user(user, face_id: int) -> FaceResult:
    qs = FaceResult.objects.select_related("frame__job__video")
    if not scores_visible_to(user):
        raise Http404("No such face")
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
        Prefetch("faces", queryset=faces)
    )
    prefetch_related_objects([job], Prefetch("frames", queryset=frames), "persons")
    return job


@dataclass(frozen=True)
class FaceSize:
    """How large the faces a job's verdict rests on were, against what the model looks at."""

    px: int  # median side of the deciding person's face boxes, in the video's pixels
    model_px: int  # a face box's side inside the model's input (input size / (1 + 2 margin))

    @property
    def small(self) -> bool:
        """Smaller than the model looks at: each face was scaled up to be scored. A fact about
        the input, shown with the verdict; it does not catch every unreliable one (re-encoding
        moves scores at larger sizes too: the model cards' robustness table)."""
        return self.px < self.model_px


def person_face_sides(job: AnalysisJob) -> dict[int | None, int]:
    """Median face box side (px) per person id (None: faces of no tracked person), one query."""
    sides: dict[int | None, list[int]] = {}
    for person_id, w, h in FaceResult.objects.filter(frame__job=job).values_list(
        "person_id", "box_w", "box_h"
    ):
        sides.setdefault(person_id, []).append(max(w, h))
    return {key: int(round(median(values))) for key, values in sides.items()}


def job_face_size(job: AnalysisJob, sides: dict | None = None) -> FaceSize | None:
    """The face size of the person who decides the video (every face of a job made before
    people were tracked); None without a face or a model version. `sides`: the job's
    `person_face_sides`, when the caller has them already."""
    version = job.model_version
    if version is None or not job.faces_scored:
        return None
    sides = person_face_sides(job) if sides is None else sides
    if not sides:
        return None
    counted = [p for p in job.persons.all() if p.counts_for_video and p.id in sides]
    if counted:
        px = sides[max(counted, key=lambda p: p.fake_probability).id]
    else:
        px = int(round(median(sides.values())))
    return FaceSize(
        px=px,
        model_px=int(round(version.serving.input_size / (1 + 2 * version.serving.face_margin))),
    )


def job_segments(persons) -> list[tuple[str, float, float, float]]:
    """(person label, start s, end s, probability) of every confidently fake stretch."""
    return [
        (p.label, seg["start_s"], seg["end_s"], seg["probability"])
        for p in persons
        for seg in (p.segments or [])
    ]


def job_reasons_for(job, scores_visible: bool) -> list[dict]:
    """The job's uncertain reasons as this viewer may see them: an uploader who may not see
    scores gets each code in general words (its message carries scores and times)."""
    if scores_visible:
        return list(job.reasons)
    return [{"code": r["code"], "message": REASON_CODES[r["code"]]} for r in job.reasons]
