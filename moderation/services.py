"""Writes for the review queue: routing, claims, decisions, appeals, heatmaps.

Heatmaps are drawn by detection (`detection.heatmaps`); this app picks the crops and keeps them.

Every change to an item's state is a conditional UPDATE (the row is changed only if it is still
in the state the caller saw, and claimed by the caller) followed by one appended event, inside
one transaction: two moderators can never both decide the same item.
"""

from __future__ import annotations

import datetime as dt
import logging

import cv2
import numpy as np
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from detection.heatmaps import heatmap_overlays
from detection.models import AnalysisJob, FaceResult, JobStatus, Verdict
from detection.pipeline.errors import ModelLoadError
from webhooks.services import webhook_job_moderated

from .models import (
    DECIDED_STATES,
    DECISION_TO_STATE,
    MODERATOR_REASONS,
    OPEN_STATES,
    Decision,
    HeatmapOverlay,
    ReasonCode,
    ReviewEvent,
    ReviewItem,
    ReviewState,
)

logger = logging.getLogger(__name__)


class ReviewConflict(Exception):
    """The item changed under the caller (claimed by someone else, already decided...)."""


# --- Routing ----------------------------------------------------------------------------------


def routing_for(*, job: AnalysisJob) -> tuple[str, str]:
    """(state, reason) for a finished job, from its model version's thresholds."""
    version = job.model_version
    p = job.fake_probability
    if job.verdict == Verdict.NO_FACE or p is None:
        if settings.MODERATION_NO_FACE_TO_REVIEW:
            return ReviewState.NEEDS_REVIEW, ReasonCode.ROUTED_NO_FACE
        return ReviewState.AUTO_CLEARED, ReasonCode.ROUTED_NO_FACE
    low, high = version.video_band if version else (0.35, 0.65)
    if p >= high:
        return ReviewState.FLAGGED, ReasonCode.ROUTED_FLAGGED
    if p >= low or job.verdict == Verdict.UNCERTAIN:
        # Uncertain below the band too: the detector held the video back from clearing (a
        # confident fake stretch, a brief fake person, input unlike its training data; the
        # job's reasons say which), so a moderator sees it.
        return ReviewState.NEEDS_REVIEW, ReasonCode.ROUTED_UNCERTAIN
    floor = settings.MODERATION_REVIEW_FLOOR
    if floor is not None and p >= floor:
        # The site asks for more recall than the version's band gives: the models miss more
        # fakes than they flag real videos (see the model cards), so a site can send lower
        # scores to a moderator too.
        return ReviewState.NEEDS_REVIEW, ReasonCode.ROUTED_REVIEW_FLOOR
    return ReviewState.AUTO_CLEARED, ReasonCode.ROUTED_CLEARED


def review_item_route(*, job: AnalysisJob) -> ReviewItem | None:
    """Create the review item of a finished job (once); called by the worker as it stores results."""
    if job.status != JobStatus.DONE:
        return None
    with transaction.atomic():
        existing = ReviewItem.objects.filter(job=job).first()
        if existing is not None:
            return existing
        state, reason = routing_for(job=job)
        now = timezone.now()
        item = ReviewItem.objects.create(
            job=job,
            state=state,
            model_version=job.model_version,
            model_score=job.fake_probability,
            model_verdict=job.verdict,
            created_at=now,
            updated_at=now,
        )
        version = job.model_version
        note = (
            f"p={job.fake_probability:.3f}; band {version.video_band[0]}–"
            f"{version.video_band[1]} ({version.name} v{version.version})"
            if version and job.fake_probability is not None
            else ""
        )
        if reason == ReasonCode.ROUTED_REVIEW_FLOOR:
            note += f"; site review floor {settings.MODERATION_REVIEW_FLOOR}"
        if job.reasons:
            note += "; " + ", ".join(r["code"] for r in job.reasons)
        ReviewEvent.objects.create(
            item=item,
            actor=None,
            created_at=now,
            from_state="",
            to_state=state,
            reason=reason,
            note=note,
            model_score=job.fake_probability,
        )
        if state != ReviewState.AUTO_CLEARED and settings.MODERATION_HEATMAPS_ON_ROUTE:
            transaction.on_commit(lambda: heatmaps_enqueue(job_id=job.id))
    return item


def review_items_backfill() -> int:
    """Route every finished job that has no review item yet (jobs from before the queue)."""
    count = 0
    jobs = (
        AnalysisJob.objects.filter(status=JobStatus.DONE, review__isnull=True)
        .select_related("model_version")
        .order_by("created_at")
    )
    for job in jobs.iterator():
        if review_item_route(job=job) is not None:
            count += 1
    return count


# --- Claims -----------------------------------------------------------------------------------


def _claimable_by(moderator) -> Q:
    """Rows this moderator may claim and decide, by the who-may-decide rules."""
    # An appeal goes to someone other than the first decider; an escalation to someone other
    # than the escalator.
    # Nobody decides their own upload (a conflict of interest), first decision or appeal.
    return (
        ~Q(job__video__uploaded_by=moderator)
        & ~Q(state=ReviewState.APPEALED, first_decided_by=moderator)
        & ~Q(state=ReviewState.ESCALATED, escalated_by=moderator)
        & ~Q(
            state=ReviewState.ESCALATED,
            appealed_at__isnull=False,
            appeal_decided_by__isnull=True,
            first_decided_by=moderator,
        )
    )


def _require_moderator(user) -> None:
    if not getattr(user, "is_moderator", False):
        raise PermissionDenied("Only moderators review items.")


def _why_not(item: ReviewItem, moderator, now) -> str:
    """A clear message for a refused claim or decision (read after the UPDATE changed nothing)."""
    if item.state not in OPEN_STATES:
        return f"This item was already decided ({item.get_state_display().lower()})."
    if bar := item.decider_bar(moderator):
        return bar
    if item.claimed_by_id and item.claimed_by_id != moderator.pk and item.claim_expires_at > now:
        return "Another moderator is reviewing this item."
    return "Claim this item before deciding it (your claim may have expired)."


def claim_ttl() -> dt.timedelta:
    return dt.timedelta(minutes=settings.MODERATION_CLAIM_MINUTES)


def review_item_claim(*, item_id: int, moderator, now: dt.datetime | None = None) -> ReviewItem:
    """Claim an open item (or renew one's own claim). Raises ReviewConflict if someone holds it."""
    _require_moderator(moderator)
    now = now or timezone.now()
    changed = ReviewItem.objects.filter(
        Q(claimed_by__isnull=True) | Q(claim_expires_at__lte=now) | Q(claimed_by=moderator),
        _claimable_by(moderator),
        pk=item_id,
        state__in=OPEN_STATES,
    ).update(claimed_by=moderator, claim_expires_at=now + claim_ttl(), updated_at=now)
    item = ReviewItem.objects.get(pk=item_id)
    if changed != 1:
        raise ReviewConflict(_why_not(item, moderator, now))
    return item


def review_item_release(*, item_id: int, moderator) -> bool:
    """Give back one's own claim; False if it was not held."""
    return (
        ReviewItem.objects.filter(pk=item_id, claimed_by=moderator).update(
            claimed_by=None, claim_expires_at=None, updated_at=timezone.now()
        )
        == 1
    )


# --- Decisions --------------------------------------------------------------------------------


def _clean_decision(decision: str, reason: str, note: str) -> tuple[str, str, str]:
    if decision not in Decision.values:
        raise ValidationError(f"Unknown decision {decision!r}.", code="decision")
    if reason not in {code for code, _ in MODERATOR_REASONS}:
        raise ValidationError(f"Unknown reason code {reason!r}.", code="reason")
    note = (note or "").strip()
    if reason == ReasonCode.OTHER and not note:
        raise ValidationError("Reason 'other' needs a note.", code="note")
    if len(note) > 2000:
        raise ValidationError("The note is longer than 2000 characters.", code="note")
    return decision, reason, note


@transaction.atomic
def review_item_decide(
    *,
    item_id: int,
    moderator,
    decision: str,
    reason: str,
    note: str = "",
    now: dt.datetime | None = None,
) -> ReviewItem:
    """Confirm fake, overturn (real) or escalate an item the moderator has claimed.

    The UPDATE only matches while the caller holds an unexpired claim on an open item, so a
    second moderator's decision (or a decision on an expired claim) changes nothing and raises.
    """
    _require_moderator(moderator)
    decision, reason, note = _clean_decision(decision, reason, note)
    now = now or timezone.now()
    before = ReviewItem.objects.get(pk=item_id)
    new_state = DECISION_TO_STATE[decision]
    if decision == Decision.ESCALATE and before.state == ReviewState.ESCALATED:
        raise ValidationError(
            "This item is already escalated: confirm or overturn it.", code="decision"
        )
    fields = dict(state=new_state, claimed_by=None, claim_expires_at=None, updated_at=now)
    if decision == Decision.ESCALATE:
        fields["escalated_by"] = moderator
    elif before.is_appeal:
        fields.update(appeal_decided_by=moderator, appeal_decided_at=now)
    elif before.first_decided_by_id is None:
        fields.update(first_decided_by=moderator, first_decided_at=now)
    changed = ReviewItem.objects.filter(
        _claimable_by(moderator),
        pk=item_id,
        state=before.state,
        state__in=OPEN_STATES,
        claimed_by=moderator,
        claim_expires_at__gt=now,
    ).update(**fields)
    if changed != 1:
        raise ReviewConflict(_why_not(ReviewItem.objects.get(pk=item_id), moderator, now))
    ReviewEvent.objects.create(
        item_id=item_id,
        actor=moderator,
        created_at=now,
        from_state=before.state,
        to_state=new_state,
        reason=reason,
        note=note,
        model_score=before.model_score,
    )
    if new_state in DECIDED_STATES:  # a final outcome: tell the API client's callback URL
        webhook_job_moderated(
            job=before.job,
            state=new_state,
            decision=decision,
            outcome="fake" if new_state == ReviewState.CONFIRMED_FAKE else "real",
        )
    return ReviewItem.objects.get(pk=item_id)


# --- Appeals ----------------------------------------------------------------------------------


@transaction.atomic
def review_item_appeal(*, job_id, uploader, message: str) -> ReviewItem:
    """The uploader contests a decision, once; the item goes back to the queue."""
    message = (message or "").strip()
    if not message:
        raise ValidationError("Say why you disagree with the decision.", code="message")
    if len(message) > 2000:
        raise ValidationError("The message is longer than 2000 characters.", code="message")
    item = ReviewItem.objects.filter(job_id=job_id, job__video__uploaded_by=uploader).first()
    if item is None:
        raise ReviewItem.DoesNotExist("No review of this video.")
    now = timezone.now()
    changed = ReviewItem.objects.filter(
        pk=item.pk,
        state__in=DECIDED_STATES,
        appealed_at__isnull=True,
    ).update(state=ReviewState.APPEALED, appeal_message=message, appealed_at=now, updated_at=now)
    if changed != 1:
        raise ReviewConflict(
            "This decision cannot be appealed (it was already appealed, or "
            "there is no decision yet)."
        )
    ReviewEvent.objects.create(
        item=item,
        actor=uploader,
        created_at=now,
        from_state=item.state,
        to_state=ReviewState.APPEALED,
        reason=ReasonCode.APPEAL,
        note=message,
        model_score=item.model_score,
    )
    return ReviewItem.objects.get(pk=item.pk)


# --- Heatmaps ---------------------------------------------------------------------------------


def heatmaps_enqueue(*, job_id) -> None:
    from detection.reconcile import side_task

    # On the side cluster: a first heatmap (about 15 s of model loading) never holds up an
    # analysis.
    side_task("moderation.tasks.heatmaps_compute", str(job_id), task_name=f"heatmaps-{job_id}")


def heatmaps_request(*, job: AnalysisJob) -> None:
    """On demand from the evidence page: compute the missing heatmaps in the worker."""
    transaction.on_commit(lambda: heatmaps_enqueue(job_id=job.id))


def heatmaps_compute(*, job_id) -> int:
    """Grad-CAM overlays for the job's most suspicious crops; returns how many were added."""
    job = AnalysisJob.objects.select_related("model_version").filter(id=job_id).first()
    if job is None or job.model_version is None or job.status != JobStatus.DONE:
        return 0
    version = job.model_version
    faces = list(
        FaceResult.objects.filter(frame__job=job)
        .exclude(heatmaps__model_version=version)
        .order_by("-fake_probability", "id")[: settings.MODERATION_HEATMAP_CROPS]
    )
    if not faces:
        return 0
    crops, kept = [], []
    for face in faces:
        try:
            with face.crop.open("rb") as fh:
                data = fh.read()
        except FileNotFoundError:
            logger.warning("crop of face %s is missing; no heatmap", face.id)
            continue
        image = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)
        if image is None:
            logger.warning("crop of face %s is not a readable image; no heatmap", face.id)
            continue
        crops.append(image)
        kept.append(face)
    if not kept:
        return 0
    try:
        jpegs = heatmap_overlays(spec=version.to_spec(), crops=crops)
    except ModelLoadError as exc:  # e.g. a version shipped only as a converted file
        logger.warning("no heatmaps for job %s: %s", job_id, exc)
        return 0
    added = 0
    for face, jpeg in zip(kept, jpegs):
        if jpeg is None:
            continue
        row = HeatmapOverlay(face=face, model_version=version)
        row.image.save(f"{face.id}_{version.pk}.jpg", ContentFile(jpeg), save=False)
        try:
            with transaction.atomic():
                row.save()
            added += 1
        except IntegrityError:  # computed twice concurrently: keep the first, drop our file
            row.image.delete(save=False)
    return added
