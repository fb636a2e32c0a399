"""Writes for the detection app: uploads, jobs, results, model versions.

What happens after an analysis outside detection (the review item, the client's webhook) is
orchestrated one level up, in `orchestration.jobs`; detection knows nothing of it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import cv2
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from detection.pipeline import classify
from detection.pipeline.errors import ModelLoadError, PipelineError
from detection.pipeline.spec import DESCRIPTIVE_FIELDS, ModelSpec
from detection.pipeline.types import PROFILES, VideoResult

from . import reconcile, upload_storage
from .callback_urls import CallbackUrlRefused, callback_url_check
from .model_cache import analyser_for_spec, analysis_config, config_from_record
from .models import (
    AnalysisJob,
    FaceResult,
    FrameResult,
    JobStatus,
    ModelState,
    ModelVersion,
    ModelVersionAction,
    ModelVersionEvent,
    PersonResult,
    ShadowResult,
    Video,
)
from .selectors import model_version_active

logger = logging.getLogger(__name__)

CROP_MAX_SIDE = 224  # stored crops are evidence for people, not model input: keep them small
CROP_JPEG_QUALITY = 90
ANALYSE_TASK = reconcile.ANALYSE_TASK

# Called as f(job=job) inside the transaction that stores a result (see job_analyse).
InResultTransaction = Callable[[AnalysisJob], object]


# --- Uploads and jobs -------------------------------------------------------------------------


def _upload_check_size(uploaded_file) -> None:
    if uploaded_file.size == 0:
        raise ValidationError("The file is empty.", code="empty")
    if uploaded_file.size > settings.DETECTION_MAX_UPLOAD_BYTES:
        limit_mb = settings.DETECTION_MAX_UPLOAD_BYTES // (1024 * 1024)
        raise ValidationError(f"The file is larger than the {limit_mb} MB limit.", code="too_large")


def _upload_sha256(uploaded_file) -> str:
    digest = hashlib.sha256()
    for chunk in uploaded_file.chunks():
        digest.update(chunk)
    uploaded_file.seek(0)
    return digest.hexdigest()


def _storage_quota_check(*, user, incoming_bytes: int) -> None:
    used = Video.objects.filter(uploaded_by=user).aggregate(n=Sum("size_bytes"))["n"] or 0
    if used + incoming_bytes > settings.DETECTION_USER_STORAGE_BYTES:
        quota_mb = settings.DETECTION_USER_STORAGE_BYTES // (1024 * 1024)
        raise ValidationError(
            f"This upload would take your stored videos past your {quota_mb} MB quota.",
            code="quota",
        )


def _video_create(
    *,
    user,
    uploaded_file,
    sha256: str,
    callback_url: str,
    client_reference: str,
    placed: list,
    profile: str = "",
) -> AnalysisJob:
    """Inside the caller's transaction: the row, its job, and (last) the file moved into
    place; the placed path is appended to `placed` for the caller to remove on rollback."""
    _storage_quota_check(user=user, incoming_bytes=uploaded_file.size)
    name = Path(uploaded_file.name or "upload").name[:255]
    staged, owned = upload_storage.stage(uploaded_file)
    try:
        video = Video(
            uploaded_by=user, original_name=name, size_bytes=uploaded_file.size, sha256=sha256
        )
        video.file.name = upload_storage.storage_name(video, name)
        video.save()
        job = job_create(
            video=video,
            callback_url=callback_url,
            client_reference=client_reference,
            profile=profile,
        )
        placed.append(Path(settings.MEDIA_ROOT) / video.file.name)
        upload_storage.place(staged, video.file.name)
        if not owned:
            uploaded_file.close()  # its temporary file was moved: nothing left to remove
        return job
    finally:
        if owned:
            upload_storage.discard(staged)  # moved: gone already; on failure: removed


def video_upload(
    *,
    user,
    uploaded_file,
    sha256: str | None = None,
    callback_url: str = "",
    client_reference: str = "",
    profile: str = "",
) -> AnalysisJob:
    """Store an uploaded file under a generated name and queue its analysis.

    The file moves into place in the row's transaction; if that fails, no row and no file.
    """
    _upload_check_size(uploaded_file)
    sha256 = sha256 or _upload_sha256(uploaded_file)
    placed: list = []
    try:
        with transaction.atomic():
            return _video_create(
                user=user,
                uploaded_file=uploaded_file,
                sha256=sha256,
                callback_url=callback_url,
                client_reference=client_reference,
                placed=placed,
                profile=profile,
            )
    except Exception:
        upload_storage.discard(*placed)  # nothing half-stored: no row, no orphan file
        raise


@dataclass(frozen=True)
class UploadOutcome:
    job: AnalysisJob
    duplicate: bool  # True: the account had already sent this file; `job` is the earlier one


def video_submit(
    *,
    user,
    uploaded_file,
    callback_url: str = "",
    client_reference: str = "",
    reanalyse: bool = False,
    profile: str = "",
) -> UploadOutcome:
    """An upload (API or web form): the same file (sha256) from the same account is analysed
    once.

    A repeat answers the latest analysis that did not fail; `reanalyse` (or only failed
    analyses so far) queues a new job for the stored video under the active model.
    """
    if callback_url:
        callback_url_validate(url=callback_url)
    _upload_check_size(uploaded_file)
    sha256 = _upload_sha256(uploaded_file)
    # Look up and create in one transaction, one account's uploads one at a time, so two
    # identical uploads at once still give one analysis: SQLite's BEGIN IMMEDIATE (settings)
    # serialises every write; on PostgreSQL the account's row is locked. Storing the file inside
    # it is cheap: a large upload is already a temporary file on disk and is moved, not copied.
    placed: list = []
    try:
        with transaction.atomic():
            account = get_user_model().objects.select_for_update().filter(pk=user.pk)
            list(account.values_list("pk", flat=True))  # evaluating it takes the lock
            video = (
                Video.objects.filter(uploaded_by=user, sha256=sha256)
                .order_by("-created_at")
                .first()
            )
            if video is None:
                return UploadOutcome(
                    job=_video_create(
                        user=user,
                        uploaded_file=uploaded_file,
                        sha256=sha256,
                        callback_url=callback_url,
                        client_reference=client_reference,
                        placed=placed,
                        profile=profile,
                    ),
                    duplicate=False,
                )
            if not reanalyse:
                earlier = (
                    video.jobs.exclude(status=JobStatus.FAILED).order_by("-created_at").first()
                )
                if earlier is not None:
                    reconcile.job_requeue_if_lost(job=earlier)  # lost by a killed cluster
                    return UploadOutcome(job=earlier, duplicate=True)
            job = job_create(
                video=video,
                callback_url=callback_url,
                client_reference=client_reference,
                profile=profile,
            )
    except Exception:
        upload_storage.discard(*placed)  # the row was rolled back: so is its file
        raise
    return UploadOutcome(job=job, duplicate=False)


def callback_url_validate(*, url: str) -> None:
    try:
        callback_url_check(
            url,
            allow_private=settings.WEBHOOK_ALLOW_PRIVATE_URLS,
            allowed_ports=settings.WEBHOOK_ALLOWED_PORTS,
        )
    except CallbackUrlRefused as exc:
        raise ValidationError({"callback_url": [str(exc)]}, code="invalid") from None


def job_create(
    *,
    video: Video,
    model_version: ModelVersion | None = None,
    callback_url: str = "",
    client_reference: str = "",
    profile: str = "",
) -> AnalysisJob:
    """Queue an analysis; `profile` is a speed profile (default: DETECTION_DEFAULT_PROFILE)."""
    profile = profile or settings.DETECTION_DEFAULT_PROFILE
    if profile not in PROFILES:
        raise ValidationError(
            {"profile": [f"Unknown profile {profile!r}; choose one of {', '.join(PROFILES)}."]},
            code="invalid",
        )
    job = AnalysisJob.objects.create(
        video=video,
        model_version=model_version or model_version_active(),
        callback_url=callback_url,
        client_reference=client_reference,
        profile=profile,
    )
    # The worker must never see a row that was rolled back: enqueue only after commit.
    transaction.on_commit(lambda: job_enqueue(job_id=job.id))
    return job


def job_reanalyse(*, job: AnalysisJob) -> AnalysisJob:
    """Queue the same analysis again: the same file, version, config and so the same frames.
    With the version's pinned weights, its result is the original's (a check that a stored
    result still means what it did, and evidence for a dispute)."""
    if job.status != JobStatus.DONE:
        raise ValidationError("Only a finished analysis can be repeated.")
    if job.model_version is None:
        raise ValidationError("This analysis records no model version to repeat it with.")
    if not job.model_version.weights_present:
        raise ValidationError(
            f"{job.model_version}'s weights are archived: an admin restores them with "
            "manage.py import_model first."
        )
    again = AnalysisJob.objects.create(
        video=job.video,
        model_version=job.model_version,
        profile=job.profile,
        config=job.config,
        reanalysis_of=job,
    )
    transaction.on_commit(lambda: job_enqueue(job_id=again.id))
    return again


def job_enqueue(*, job_id) -> None:
    # The worker's entry point is the orchestration's (analysis, then review and webhooks).
    reconcile.analysis_message_send(job_id=job_id)


def job_claim(*, job_id) -> bool:
    """Move a queued job to running; False if another worker got it first or it is not queued."""
    return reconcile.job_claim(job_id=job_id) is not None


class JobSuperseded(Exception):
    """This attempt lost the job (the reconciler gave it to another attempt): store nothing."""


def job_fail(*, job: AnalysisJob, code: str, message: str) -> AnalysisJob:
    """Record a failure; a running job only by the attempt that holds it."""
    rows = AnalysisJob.objects.filter(id=job.id)
    if job.status == JobStatus.RUNNING:
        rows = rows.filter(status=JobStatus.RUNNING, attempts=job.attempts)
    now = timezone.now()
    if not rows.update(
        status=JobStatus.FAILED, error_code=code[:32], error=message, finished_at=now
    ):
        logger.warning(
            "job %s: attempt %s superseded; its failure is not stored", job.id, job.attempts
        )
        job.refresh_from_db()
        return job
    job.status, job.error_code, job.error, job.finished_at = (
        JobStatus.FAILED,
        code[:32],
        message,
        now,
    )
    return job


def jobs_fail_stale() -> list[AnalysisJob]:
    """Fail running jobs whose worker died (killed on timeout, machine restart).

    A job cannot run longer than the worker timeout, so anything running well past it is dead.
    Returns the stale jobs now failed (by this call or a concurrent one).
    """
    cutoff = timezone.now() - dt.timedelta(seconds=settings.DETECTION_JOB_TIMEOUT_S + 60)
    stale = list(
        AnalysisJob.objects.filter(status=JobStatus.RUNNING, started_at__lt=cutoff).values_list(
            "id", flat=True
        )
    )
    AnalysisJob.objects.filter(id__in=stale, status=JobStatus.RUNNING).update(
        status=JobStatus.FAILED,
        error_code="timeout",
        finished_at=timezone.now(),
        error="The analysis did not finish in time (the worker stopped or timed out). "
        "Upload the video again to retry.",
    )
    return list(AnalysisJob.objects.filter(id__in=stale, status=JobStatus.FAILED))


def job_analyse(
    *, job_id, in_result_transaction: InResultTransaction | None = None
) -> AnalysisJob | None:
    """Claim and analyse one job; every outcome is stored on the job, nothing is raised.

    None when the job was not claimed (missing, or no longer queued).
    `in_result_transaction(job=job)` runs inside the transaction that stores the result.
    """
    attempt = reconcile.job_claim(job_id=job_id)
    if attempt is None:
        logger.info("job %s not claimed (missing or no longer queued)", job_id)
        return None
    job = AnalysisJob.objects.select_related("video", "model_version").get(id=job_id)
    started = time.perf_counter()
    try:
        version = job.model_version or model_version_active()
        if version is None:
            raise ModelLoadError("No model version is active: an admin must activate one.")
        # A re-analysis runs with the config its original recorded; a new one records its own.
        config = config_from_record(job.config) if job.config else analysis_config(job.profile)
        if not job.config:
            job.config = asdict(config)
            AnalysisJob.objects.filter(id=job.id).update(config=job.config)
        with reconcile.job_heartbeat(job_id=job.id, attempt=attempt):
            analyser = analyser_for_spec(version.to_spec(), config)
            result = analyser.analyse(job.video.file.path)
    except PipelineError as exc:
        logger.info("job %s failed: %s", job_id, exc)
        return job_fail(job=job, code=exc.code, message=str(exc))
    except Exception as exc:  # a bug or a resource error: record it, keep the worker alive
        logger.exception("job %s crashed", job_id)
        return job_fail(
            job=job,
            code="internal_error",
            message=f"Internal error while analysing ({exc.__class__.__name__}). "
            "The team has been notified in the server log.",
        )
    try:
        return job_store_result(
            job=job,
            model_version=version,
            result=result,
            weights_sha256=_served_sha256(analyser),
            seconds=time.perf_counter() - started,
            in_transaction=in_result_transaction,
        )
    except JobSuperseded:
        logger.warning("job %s: attempt %s superseded; its result is not stored", job_id, attempt)
        job.refresh_from_db()
        return job
    except Exception as exc:
        logger.exception("job %s: storing results failed", job_id)
        return job_fail(
            job=job,
            code="internal_error",
            message=f"Internal error while storing results ({exc.__class__.__name__}).",
        )


def _served_sha256(analyser) -> str:
    """The SHA-256 of the file that scored (model_cache checked it against the version's pin);
    "" for an analyser made elsewhere (a test's stand-in)."""
    sha = getattr(analyser, "weights_sha256", "")
    return sha if isinstance(sha, str) else ""


def _encode_crop(image) -> bytes:
    h, w = image.shape[:2]
    scale = min(1.0, CROP_MAX_SIDE / max(h, w))
    if scale < 1.0:
        image = cv2.resize(
            image, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA
        )
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, CROP_JPEG_QUALITY])
    if not ok:
        raise RuntimeError("JPEG encoding of a face crop failed")
    return buf.tobytes()


def job_store_result(
    *,
    job: AnalysisJob,
    model_version: ModelVersion,
    result: VideoResult,
    seconds: float,
    in_transaction: InResultTransaction | None = None,
    weights_sha256: str = "",
) -> AnalysisJob:
    """Write crops, then every row of the result in one transaction.

    `in_transaction(job=job)` runs last inside it: if it raises, nothing of the result is kept.
    Idempotent: only the attempt that still holds a running job stores (a retried job never
    stores twice; the unique frame and person rows would refuse it anyway).
    """
    stored_started = time.perf_counter()
    # Crops are written to a temporary folder and renamed into place as the transaction's last
    # step: a worker killed while storing leaves a temporary folder (media_check removes it),
    # never crops without rows.
    staging = upload_storage.staging_dir(f"crops-{job.id}")
    crops_dir = f"crops/{job.id}"
    placed = False
    try:
        with transaction.atomic():
            if job.status == JobStatus.RUNNING and not reconcile.job_hold(job=job):
                raise JobSuperseded(str(job.id))
            video = job.video
            info = result.info
            video.duration_s, video.width, video.height = info.duration_s, info.width, info.height
            video.fps, video.frame_count, video.codec = info.fps, info.frame_count, info.codec
            video.save(
                update_fields=["duration_s", "width", "height", "fps", "frame_count", "codec"]
            )
            persons = {
                p.index: PersonResult.objects.create(
                    job=job,
                    index=p.index,
                    fake_probability=p.fake_probability,
                    frames_seen=p.frames_seen,
                    counts_for_video=p.counts_for_video,
                    branches=p.branches,
                    segments=[asdict(s) for s in p.segments],
                )
                for p in result.persons
            }
            representatives = {id(p.representative) for p in result.persons}
            for outcome in result.frames:
                frame = FrameResult.objects.create(
                    job=job,
                    frame_index=outcome.index,
                    timestamp_s=outcome.timestamp_s,
                    fake_probability=outcome.fake_probability,
                )
                for n, face in enumerate(outcome.faces):
                    row = FaceResult(
                        frame=frame,
                        person=persons.get(face.person),
                        is_representative=id(face) in representatives,
                        box_x=face.box.x,
                        box_y=face.box.y,
                        box_w=face.box.w,
                        box_h=face.box.h,
                        raw_score=face.raw_score,
                        fake_probability=face.fake_probability,
                    )
                    name = f"{outcome.index:06d}_{n}.jpg"
                    upload_storage.write_file(staging / name, _encode_crop(face.crop))
                    row.crop.name = f"{crops_dir}/{name}"
                    row.save()
            job.model_version = model_version
            job.status = JobStatus.DONE
            job.verdict = result.verdict
            job.fake_probability = result.fake_probability
            job.frames_sampled = result.frames_sampled
            job.frames_with_face = result.frames_with_face
            job.faces_scored = result.faces_scored
            job.reasons = [asdict(r) for r in result.reasons]
            job.frame_indices = [frame.index for frame in result.frames]
            job.weights_sha256 = weights_sha256
            job.timings = {
                **result.timings,
                "store": round(time.perf_counter() - stored_started, 4),
                "total": round(seconds + time.perf_counter() - stored_started, 4),
            }
            job.finished_at = timezone.now()
            job.save(
                update_fields=[
                    "model_version",
                    "status",
                    "verdict",
                    "fake_probability",
                    "frames_sampled",
                    "frames_with_face",
                    "faces_scored",
                    "reasons",
                    "frame_indices",
                    "weights_sha256",
                    "timings",
                    "finished_at",
                ]
            )
            if in_transaction is not None:
                in_transaction(job=job)
            shadow_results_queue(job=job)
            upload_storage.place_dir(staging, crops_dir)
            placed = True
    except Exception:
        upload_storage.discard_dir(staging)
        if placed:  # renamed, then the commit failed
            upload_storage.discard_dir(Path(settings.MEDIA_ROOT) / crops_dir)
        raise
    return job


# --- Shadow runs ------------------------------------------------------------------------------


def shadow_results_queue(*, job: AnalysisJob) -> list[ShadowResult]:
    """Inside the transaction that stores a job's result: a queued ShadowResult for each version
    in shadow (not the job's own), each sent to the analysis cluster after commit.

    Shadow scores never touch the job, its verdict or its routing; a failure here is logged and
    the job's result is stored all the same. A re-analysis gets none (it repeats a job that had
    its chance), nor does anything while DETECTION_SHADOW_RUNS is off.
    """
    if not settings.DETECTION_SHADOW_RUNS or job.reanalysis_of_id is not None:
        return []
    created = []
    try:
        with transaction.atomic():  # a savepoint: a failure here never loses the job's result
            shadows = ModelVersion.objects.filter(state=ModelState.SHADOW).exclude(
                pk=job.model_version_id
            )
            for version in shadows:
                row, new = ShadowResult.objects.get_or_create(
                    job=job, model_version=version, defaults={"config": job.config}
                )
                if new:
                    created.append(row)
    except Exception:
        logger.exception("job %s: shadow scores not queued", job.id)
        return []
    for row in created:
        transaction.on_commit(lambda pk=row.pk: reconcile.shadow_message_send(shadow_result_id=pk))
    return created


def _shadow_fail(row: ShadowResult, code: str, message: str) -> ShadowResult:
    row.status, row.error_code, row.error = JobStatus.FAILED, code[:32], message
    row.finished_at = timezone.now()
    ShadowResult.objects.filter(pk=row.pk).update(
        status=row.status, error_code=row.error_code, error=message, finished_at=row.finished_at
    )
    return row


def shadow_result_compute(*, shadow_result_id) -> ShadowResult | None:
    """Score a stored upload with a shadow version, with the config the job recorded; the
    verdict is the shadow version's own (its video band). Every outcome is stored on the
    ShadowResult, nothing is raised (the worker lives on); the job is never touched.

    None when the row was not claimed (missing, or no longer queued).
    """
    claimed = ShadowResult.objects.filter(pk=shadow_result_id, status=JobStatus.QUEUED).update(
        status=JobStatus.RUNNING, started_at=timezone.now()
    )
    if not claimed:
        logger.info("shadow result %s not claimed (missing or no longer queued)", shadow_result_id)
        return None
    row = ShadowResult.objects.select_related("job__video", "model_version").get(
        pk=shadow_result_id
    )
    started = time.perf_counter()
    try:
        job = row.job
        recorded = row.config or job.config
        config = config_from_record(recorded) if recorded else analysis_config(job.profile)
        analyser = analyser_for_spec(row.model_version.to_spec(), config)
        result = analyser.analyse(job.video.file.path)
    except PipelineError as exc:
        logger.info("shadow result %s failed: %s", shadow_result_id, exc)
        return _shadow_fail(row, exc.code, str(exc))
    except Exception as exc:  # a bug or a resource error: record it, keep the worker alive
        logger.exception("shadow result %s crashed", shadow_result_id)
        return _shadow_fail(
            row,
            "internal_error",
            f"Internal error while scoring in shadow ({exc.__class__.__name__}: {exc}).",
        )
    try:
        row.status = JobStatus.DONE
        row.verdict = result.verdict
        row.fake_probability = result.fake_probability
        row.reasons = [asdict(r) for r in result.reasons]
        row.config = asdict(config)
        row.frame_indices = [frame.index for frame in result.frames]
        row.weights_sha256 = _served_sha256(analyser)
        row.timings = {**result.timings, "total": round(time.perf_counter() - started, 4)}
        row.finished_at = timezone.now()
        row.save()
    except Exception as exc:
        logger.exception("shadow result %s: storing failed", shadow_result_id)
        return _shadow_fail(
            row,
            "internal_error",
            f"Internal error while storing the shadow score ({exc.__class__.__name__}).",
        )
    return row


# --- Model versions ---------------------------------------------------------------------------


def _relative_to_project(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path(settings.BASE_DIR).resolve()))
    except ValueError:
        return str(path.resolve())


def _weights_of(spec: ModelSpec) -> Path:
    """The spec's weights file, its path absolute or relative to the project folder."""
    weights = Path(spec.weights_file)
    return weights if weights.is_absolute() else Path(settings.BASE_DIR) / weights


def model_version_pins(*, spec: ModelSpec) -> dict:
    """{"weights_sha256", "serving_sha256"} of a spec's files (its weights path absolute or
    relative to the project): checked where the spec pins them, filled in where it does not.
    Raises ValidationError for a missing file or different bytes."""
    weights = _weights_of(spec)
    if not weights.is_file():
        raise ValidationError({"spec": f"No file at {weights}"})
    pins = {"weights_sha256": spec.weights_sha256, "serving_sha256": spec.serving_sha256}
    files = {"weights_sha256": weights, "serving_sha256": classify.serving_path(spec, weights)}
    for key, path in files.items():
        if path is None:
            continue
        actual = classify.file_sha256(path)
        if pins[key] and pins[key] != actual:
            raise ValidationError(
                {
                    "spec": f"{path.name} is not the file this spec was made with "
                    f"(SHA-256 {actual[:12]}..., the spec pins {pins[key][:12]}...)"
                }
            )
        pins[key] = actual
    return pins


def _record_spec(spec: ModelSpec) -> dict:
    """What the registry stores of a spec: its serving config, the weights path relative to
    the project where it lies inside it, and its files' SHA-256 pinned."""
    return {
        **spec.serving_config(),
        "weights_file": _relative_to_project(_weights_of(spec)),
        **model_version_pins(spec=spec),
    }


def _card_beside(spec_path: Path) -> str:
    card = spec_path.with_suffix(".md")
    return card.read_text() if card.is_file() else ""


@transaction.atomic
def model_version_create(
    *,
    spec: ModelSpec,
    card: str = "",
    state: str = ModelState.CANDIDATE,
    derived_from: ModelVersion | None = None,
    by=None,
    reason: str = "",
    event: str = ModelVersionAction.REGISTERED,
) -> ModelVersion:
    """A new registry record from a spec whose weights path is absolute or project-relative;
    its files' SHA-256 are pinned. Refuses a name and version already registered. Its history
    starts with `event` (registered, or imported from an archive)."""
    config = _record_spec(spec)
    if ModelVersion.objects.filter(name=spec.name, version=spec.version).exists():
        raise ValidationError(
            f"{spec.name} v{spec.version} is already registered: a release needs a new "
            "version number."
        )
    version = ModelVersion(
        name=spec.name,
        version=spec.version,
        spec=config,
        metrics=spec.metrics,
        notes=spec.notes,
        trained_at=spec.trained_at,
        card=card,
        derived_from=derived_from,
    )
    version.full_clean(exclude=["state"])
    version.save()
    model_version_event_record(model_version=version, action=event, by=by, reason=reason)
    if state == ModelState.ACTIVE:
        model_version_activate(model_version=version, by=by, reason=reason)
    elif state != ModelState.CANDIDATE:
        model_version_set_state(model_version=version, state=state, by=by, reason=reason)
    return version


@transaction.atomic
def model_version_register(
    *, spec_path: str | Path, activate: bool = False, state: str = ""
) -> ModelVersion:
    """Register a spec file (and the card beside it) written by training: a release with no
    code change and no migration. Registering the same spec again changes nothing; a spec
    that differs from a registered version of that number is refused."""
    spec_path = Path(spec_path)
    try:
        data = json.loads(spec_path.read_text())
        ModelSpec.check({k: v for k, v in data.items() if k not in DESCRIPTIVE_FIELDS})
        spec = ModelSpec.from_dict(data)
    except (TypeError, ValueError) as exc:  # not JSON, unknown or ill-typed fields, bad rules
        raise ValidationError(f"{spec_path} is not a valid model spec: {exc}") from exc
    spec = replace(spec, weights_file=str(spec.weights_path(spec_path)))
    state = state or (ModelState.ACTIVE if activate else ModelState.CANDIDATE)
    existing = ModelVersion.objects.filter(name=spec.name, version=spec.version).first()
    if existing is not None:
        if _record_spec(spec) != existing.spec:
            raise ValidationError(
                f"{existing} is registered with another spec; a changed threshold, calibration "
                "or weights is a new version: give the spec a new version number."
            )
        if state == ModelState.ACTIVE and not existing.is_active:
            model_version_activate(model_version=existing)
        return existing
    return model_version_create(spec=spec, card=_card_beside(spec_path), state=state)


def _next_version(name: str) -> str:
    numbers = [
        int(v)
        for v in ModelVersion.objects.filter(name=name).values_list("version", flat=True)
        if str(v).isdigit()
    ]
    return str(max(numbers, default=0) + 1)


@transaction.atomic
def model_version_derive(
    *,
    parent: ModelVersion,
    changes: dict,
    notes: str,
    metrics: dict | None = None,
    card: str = "",
) -> ModelVersion:
    """A new version of the same name serving the parent's weights with new numbers (a
    threshold, a calibration): the parent and its analyses keep their meaning. It starts as a
    candidate, to go through shadow and promotion like any other."""
    config = {**parent.spec, **changes}
    unknown = (set(changes) - set(parent.spec)) | ({"name", "version"} & set(changes))
    if unknown:
        raise ValidationError(f"cannot change {', '.join(sorted(unknown))} of a version")
    number = _next_version(parent.name)
    try:
        spec = ModelSpec.check({**config, "version": number})
    except (ValueError, TypeError) as exc:
        raise ValidationError(f"{parent.name} v{number} would not be valid: {exc}") from exc
    spec = replace(
        spec,
        metrics={**parent.metrics, **(metrics or {})},
        notes=notes,
        trained_at=parent.trained_at,
    )
    card = card or (
        f"# {parent.name} v{number}\n\n{parent.name} v{parent.version}'s weights with new "
        f"numbers: {', '.join(sorted(changes))}.\n\n{notes}\n"
    )
    return model_version_create(spec=spec, card=card, derived_from=parent)


def model_version_event_record(
    *,
    model_version: ModelVersion,
    action: str,
    by=None,
    reason: str = "",
    override_reason: str = "",
    comparison: dict | None = None,
    replaced: ModelVersion | None = None,
) -> ModelVersionEvent:
    """Append one step to a version's history (never edited or deleted)."""
    return ModelVersionEvent.objects.create(
        model_version=model_version,
        action=action,
        actor=by if getattr(by, "pk", None) else None,
        reason=reason,
        override_reason=override_reason,
        comparison=comparison,
        replaced=replaced,
    )


@transaction.atomic
def model_version_activate(
    *,
    model_version: ModelVersion,
    by=None,
    reason: str = "",
    action: str = ModelVersionAction.PROMOTED,
    override_reason: str = "",
    comparison: dict | None = None,
) -> ModelVersion:
    """Make this the only active version (the one active before is retired); jobs queued from
    now on use it. Its weights must be on this server. Recorded as `action` (promoted, or
    rolled back), with the version it replaced, and the retirement of that one.

    A promotion that weighs the moderators' decisions is `moderation.services.
    model_version_promote`; this is the step itself."""
    if not model_version.weights_present:
        raise ValidationError(
            f"{model_version}'s weights are not on this server ({model_version.spec['weights_file']}"
            "): import its archive first (manage.py import_model)."
        )
    replaced = (
        ModelVersion.objects.select_for_update()
        .filter(state=ModelState.ACTIVE)
        .exclude(pk=model_version.pk)
        .first()
    )
    if replaced is None and model_version.is_active:
        return model_version  # already active: nothing happens, nothing to record
    ModelVersion.objects.filter(state=ModelState.ACTIVE).exclude(pk=model_version.pk).update(
        state=ModelState.RETIRED
    )
    model_version.state = ModelState.ACTIVE
    model_version.save(update_fields=["state"])
    if replaced is not None:
        model_version_event_record(
            model_version=replaced,
            action=ModelVersionAction.RETIRED,
            by=by,
            reason=f"replaced by {model_version.name} v{model_version.version}"
            + (f": {reason}" if reason else ""),
        )
    model_version_event_record(
        model_version=model_version,
        action=action,
        by=by,
        reason=reason,
        override_reason=override_reason,
        comparison=comparison,
        replaced=replaced,
    )
    return model_version


_STATE_ACTIONS = {
    ModelState.SHADOW: ModelVersionAction.SHADOW_STARTED,
    ModelState.RETIRED: ModelVersionAction.RETIRED,
}


@transaction.atomic
def model_version_set_state(
    *, model_version: ModelVersion, state: str, by=None, reason: str = ""
) -> ModelVersion:
    """Move a version to candidate, shadow or retired (activation is `model_version_activate`).
    Recorded: shadow started, shadow stopped (out of shadow), retired."""
    if state == ModelState.ACTIVE:
        return model_version_activate(model_version=model_version, by=by, reason=reason)
    if state not in ModelState.values:
        raise ValidationError(f"unknown state {state!r}")
    if model_version.is_active:
        raise ValidationError(
            f"{model_version} is active: promote another version (or roll back) instead."
        )
    if state == ModelState.SHADOW and not model_version.weights_present:
        raise ValidationError(f"{model_version}'s weights are not on this server.")
    before = model_version.state
    model_version.state = state
    model_version.save(update_fields=["state"])
    if before == state:
        return model_version
    if before == ModelState.SHADOW:
        model_version_event_record(
            model_version=model_version,
            action=ModelVersionAction.SHADOW_STOPPED,
            by=by,
            reason=reason,
        )
    action = _STATE_ACTIONS.get(state)
    if action is not None:
        model_version_event_record(model_version=model_version, action=action, by=by, reason=reason)
    return model_version


def model_version_previous_active(*, current: ModelVersion) -> ModelVersion | None:
    """The version that was active before `current` became active (from its history)."""
    event = (
        ModelVersionEvent.objects.filter(
            model_version=current,
            action__in=[ModelVersionAction.PROMOTED, ModelVersionAction.ROLLED_BACK],
        )
        .select_related("replaced")
        .first()
    )
    return event.replaced if event is not None else None


@transaction.atomic
def model_version_rollback(*, by, reason: str) -> ModelVersion:
    """Make the version that was active before the current one active again (the current one is
    retired), audited. Its weights must be on this server."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError("A rollback needs a reason.")
    current = ModelVersion.objects.filter(state=ModelState.ACTIVE).first()
    if current is None:
        raise ValidationError("No version is active: there is nothing to roll back.")
    previous = model_version_previous_active(current=current)
    if previous is None:
        raise ValidationError(
            f"{current}'s history records no version active before it: activate one instead."
        )
    return model_version_activate(
        model_version=previous, by=by, reason=reason, action=ModelVersionAction.ROLLED_BACK
    )
