"""Writes for the review queue: routing, claims, decisions, appeals, heatmaps.

Heatmaps are drawn by detection (`detection.heatmaps`); this app picks the crops and keeps them.

Every change to an item's state is a conditional UPDATE (the row is changed only if it is still
in the state the caller saw, and claimed by the caller) followed by one appended event, inside
one transaction: two moderators can never both decide the same item.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
from dataclasses import dataclass, field

import cv2
import numpy as np
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Case, Q, When
from django.utils import timezone

from detection.charts import band_text
from detection.heatmaps import heatmap_overlays
from detection.models import AnalysisJob, FaceResult, JobStatus, ModelState, Verdict
from detection.pipeline.errors import ModelLoadError
from detection.services import model_version_activate, model_version_derive
from detection.training.evaluation.decisions import describe
from webhooks.services import webhook_job_moderated

from . import notifications
from .models import (
    DECIDED_STATES,
    DECISION_TO_STATE,
    MODERATOR_REASONS,
    OPEN_STATES,
    QUEUES,
    REASONS_BY_DECISION,
    WAITING_STATES,
    Decision,
    HeatmapOverlay,
    ReasonCode,
    ReviewEvent,
    ReviewItem,
    ReviewState,
    SecondReview,
)
from .selectors import calibration_from_decisions, shadow_comparison

logger = logging.getLogger(__name__)


class ReviewConflict(Exception):
    """The item changed under the caller (claimed by someone else, already decided...)."""


# --- Routing ----------------------------------------------------------------------------------


def routing_for(*, job: AnalysisJob) -> tuple[str, str]:
    """(state, reason) for a finished job, from its model version's video band."""
    version = job.model_version
    return route_for_score(
        probability=job.fake_probability,
        verdict=job.verdict,
        band=version.video_band if version else (0.35, 0.65),
    )


def route_for_score(
    *, probability: float | None, verdict: str, band: tuple[float, float]
) -> tuple[str, str]:
    """(state, reason) for a video's probability and verdict read against a video band (low,
    high), with the site's routing settings; no job needed, so a candidate version's verdict
    can be asked what it would have routed to."""
    if verdict == Verdict.NO_FACE or probability is None:
        if settings.MODERATION_NO_FACE_TO_REVIEW:
            return ReviewState.NEEDS_REVIEW, ReasonCode.ROUTED_NO_FACE
        return ReviewState.AUTO_CLEARED, ReasonCode.ROUTED_NO_FACE
    low, high = band
    if probability >= high:
        return ReviewState.FLAGGED, ReasonCode.ROUTED_FLAGGED
    if probability >= low or verdict == Verdict.UNCERTAIN:
        # Uncertain below the band too: the detector held the video back from clearing (a
        # confident fake stretch, a brief fake person, input unlike its training data; the
        # job's reasons say which), so a moderator sees it.
        return ReviewState.NEEDS_REVIEW, ReasonCode.ROUTED_UNCERTAIN
    floor = settings.MODERATION_REVIEW_FLOOR
    if floor is not None and probability >= floor:
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
            due_at=None
            if state == ReviewState.AUTO_CLEARED
            else deadline_for(state=state, reason=reason, now=now),
        )
        version = job.model_version
        note = (
            f"p={job.fake_probability:.3f}; band {band_text(version.video_band)} "
            f"({version.name} v{version.version})"
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
        if state == ReviewState.FLAGGED:
            notifications.notify(kind=notifications.NEW_FLAG, item=item)
    return item


def deadline_for(*, state: str, reason: str, now: dt.datetime) -> dt.datetime | None:
    """When an item entering `state` for `reason` must be decided (MODERATION_DEADLINES:
    a reason's deadline wins over its queue's); None when neither has one."""
    minutes = settings.MODERATION_DEADLINES.get(reason, settings.MODERATION_DEADLINES.get(state))
    return None if minutes is None else now + dt.timedelta(minutes=minutes)


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


def seniors_exist() -> bool:
    from accounts.models import Role, User

    return User.objects.filter(role=Role.SENIOR_MODERATOR, is_active=True).exists()


def _claimable_by(moderator) -> Q:
    """Rows this moderator may claim and decide, by the who-may-decide rules."""
    # An appeal goes to someone other than the first decider; an escalation to someone other
    # than the escalator.
    # Nobody decides their own upload (a conflict of interest), first decision or appeal.
    rule = (
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
    if moderator.is_senior_moderator:
        return rule  # seniors take escalations and any assigned item
    # Escalations go to senior moderators once the site has any (before that, to any other
    # moderator, so nothing is stuck).
    if seniors_exist():
        rule &= ~Q(state=ReviewState.ESCALATED)
    # An item assigned to a person or a team is theirs.
    return rule & (
        Q(assigned_to__isnull=True, assigned_team__isnull=True)
        | Q(assigned_to=moderator)
        | Q(assigned_team__in=moderator.teams.values("pk"))
    )


def _require_moderator(user) -> None:
    if not getattr(user, "is_moderator", False):
        raise PermissionDenied("Only moderators review items.")


def review_item_bar(item: ReviewItem, moderator) -> str:
    """Why this moderator may not take the open item at all (empty if they may): the
    who-may-decide rules, the senior moderators' escalations and assignments."""
    if bar := item.decider_bar(moderator):
        return bar
    if (
        item.state == ReviewState.ESCALATED
        and not moderator.is_senior_moderator
        and seniors_exist()
    ):
        return "Escalated items go to a senior moderator."
    if (
        not moderator.is_senior_moderator
        and (item.assigned_to_id or item.assigned_team_id)
        and not ReviewItem.objects.filter(_claimable_by(moderator), pk=item.pk).exists()
    ):
        return "This item is assigned to someone else."
    return ""


def _why_not(item: ReviewItem, moderator, now) -> str:
    """A clear message for a refused claim or decision (read after the UPDATE changed nothing)."""
    if item.state not in OPEN_STATES:
        return f"This item was already decided ({item.get_state_display().lower()})."
    if bar := review_item_bar(item, moderator):
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


def review_item_claim_next(
    *, moderator, queue: str = "waiting", skip=(), now: dt.datetime | None = None
) -> ReviewItem | None:
    """Claim the top item of a queue that this moderator may take (items assigned to them
    first, then the queue's order); None when the queue holds nothing for them.

    Items in `skip` (the ones the moderator just skipped) come last: they are offered again only
    when nothing else is left."""
    from .selectors import PRIORITY

    _require_moderator(moderator)
    if queue not in QUEUES:
        raise ValidationError(f"Unknown queue {queue!r}.", code="queue")
    now = now or timezone.now()
    mine = Q(assigned_to=moderator) | Q(assigned_team__in=moderator.teams.values("pk"))
    candidates = (
        ReviewItem.objects.filter(
            Q(claimed_by__isnull=True) | Q(claim_expires_at__lte=now) | Q(claimed_by=moderator),
            _claimable_by(moderator),
            state__in=QUEUES[queue],
        )
        .order_by(
            Case(When(pk__in=list(skip), then=1), default=0),
            Case(When(mine, then=0), default=1),
            *PRIORITY,
        )
        .values_list("pk", flat=True)[:20]
    )
    for pk in candidates:
        try:  # another moderator may take it between the read and the UPDATE: try the next
            return review_item_claim(item_id=pk, moderator=moderator, now=now)
        except ReviewConflict:
            continue
    return None


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
    if reason not in REASONS_BY_DECISION[decision]:
        raise ValidationError(
            f"The reason “{ReasonCode(reason).label}” does not fit the decision "
            f"“{Decision(decision).label}”.",
            code="reason",
        )
    note = (note or "").strip()
    if reason == ReasonCode.OTHER and not note:
        raise ValidationError("Reason 'other' needs a note.", code="note")
    if len(note) > 2000:
        raise ValidationError("The note is longer than 2000 characters.", code="note")
    return decision, reason, note


def clean_part(
    *, job: AnalysisJob, person_index: int | None, start_s: float | None, end_s: float | None
) -> tuple[int | None, float | None, float | None]:
    """The part of the video a decision is about: a person of the job and/or a time range
    within the video; (None, None, None) is the whole video."""
    if (start_s is None) != (end_s is None):
        raise ValidationError("Give both the start and the end of the time range.", code="range")
    if start_s is not None:
        start_s, end_s = float(start_s), float(end_s)
        if start_s < 0 or end_s <= start_s:
            raise ValidationError(
                "The time range must start at 0 s or later and end after it starts.", code="range"
            )
        duration = job.video.duration_s
        if duration and start_s >= duration:
            raise ValidationError(
                f"The time range starts after the video ends ({duration:.1f} s).", code="range"
            )
        if duration:
            end_s = min(end_s, duration)
    if person_index is not None and not job.persons.filter(index=person_index).exists():
        raise ValidationError(f"This video has no person {person_index + 1}.", code="person")
    return person_index, start_s, end_s


@transaction.atomic
def review_item_decide(
    *,
    item_id: int,
    moderator,
    decision: str,
    reason: str,
    note: str = "",
    person_index: int | None = None,
    start_s: float | None = None,
    end_s: float | None = None,
    now: dt.datetime | None = None,
) -> ReviewItem:
    """Confirm fake, overturn (real) or escalate an item the moderator has claimed, on the
    whole video or on a part of it (a person and/or a time range).

    The UPDATE only matches while the caller holds an unexpired claim on an open item, so a
    second moderator's decision (or a decision on an expired claim) changes nothing and raises.
    """
    _require_moderator(moderator)
    decision, reason, note = _clean_decision(decision, reason, note)
    now = now or timezone.now()
    before = ReviewItem.objects.select_related("job__video").get(pk=item_id)
    person_index, start_s, end_s = clean_part(
        job=before.job, person_index=person_index, start_s=start_s, end_s=end_s
    )
    new_state = DECISION_TO_STATE[decision]
    if decision == Decision.ESCALATE and before.state == ReviewState.ESCALATED:
        raise ValidationError(
            "This item is already escalated: confirm or overturn it.", code="decision"
        )
    fields = dict(state=new_state, claimed_by=None, claim_expires_at=None, updated_at=now)
    first = False
    if decision == Decision.ESCALATE:
        fields.update(
            escalated_by=moderator,
            deadline_missed_at=None,
            due_at=deadline_for(state=ReviewState.ESCALATED, reason="escalated", now=now),
        )
    elif before.is_appeal:
        fields.update(appeal_decided_by=moderator, appeal_decided_at=now)
    elif before.first_decided_by_id is None:
        fields.update(first_decided_by=moderator, first_decided_at=now)
        first = True
    if new_state in DECIDED_STATES:
        fields["due_at"] = None
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
    event = ReviewEvent.objects.create(
        item_id=item_id,
        actor=moderator,
        created_at=now,
        from_state=before.state,
        to_state=new_state,
        reason=reason,
        note=note,
        model_score=before.model_score,
        person_index=person_index,
        start_s=start_s,
        end_s=end_s,
    )
    if (
        first
        and not before.known_answer
        and random.random() < settings.MODERATION_DOUBLE_REVIEW_RATE
    ):
        SecondReview.objects.create(
            item_id=item_id,
            first_event=event,
            first_moderator=moderator,
            first_decision=decision,
            first_reason=reason,
            created_at=now,
        )
    if decision == Decision.ESCALATE:
        notifications.notify(kind=notifications.ESCALATED, item=ReviewItem.objects.get(pk=item_id))
    if new_state in DECIDED_STATES:  # a final outcome: tell the API client's callback URL
        webhook_job_moderated(
            job=before.job,
            state=new_state,
            decision=decision,
            outcome="fake" if new_state == ReviewState.CONFIRMED_FAKE else "real",
        )
    return ReviewItem.objects.get(pk=item_id)


@dataclass
class BulkOutcome:
    decided: list[int] = field(default_factory=list)
    skipped: dict[int, str] = field(default_factory=dict)


def review_items_decide_bulk(
    *, item_ids: list[int], moderator, decision: str, reason: str, note: str = ""
) -> BulkOutcome:
    """The same decision on a selection: each item is claimed and decided on its own (its own
    event, the same rules); items that cannot be taken are skipped with the reason why."""
    _require_moderator(moderator)
    _clean_decision(decision, reason, note)  # refuse a bad decision before touching any item
    outcome = BulkOutcome()
    for item_id in dict.fromkeys(item_ids):
        try:
            review_item_claim(item_id=item_id, moderator=moderator)
            review_item_decide(
                item_id=item_id, moderator=moderator, decision=decision, reason=reason, note=note
            )
        except ReviewItem.DoesNotExist:
            outcome.skipped[item_id] = "No such item."
        except (ReviewConflict, ValidationError) as exc:
            review_item_release(item_id=item_id, moderator=moderator)
            outcome.skipped[item_id] = " ".join(getattr(exc, "messages", [str(exc)]))
        else:
            outcome.decided.append(item_id)
    return outcome


# --- Assignment and deadlines -----------------------------------------------------------------


@transaction.atomic
def review_item_assign(*, item_id: int, by, to_user=None, to_team=None) -> ReviewItem:
    """Assign an open item to a moderator and/or a team (none: unassign); seniors and admins."""
    if not getattr(by, "is_senior_moderator", False):
        raise PermissionDenied("Only senior moderators and admins assign items.")
    if to_user is not None and not to_user.is_moderator:
        raise ValidationError(f"{to_user.username} is not a moderator.", code="assigned_to")
    now = timezone.now()
    item = ReviewItem.objects.get(pk=item_id)
    if (
        ReviewItem.objects.filter(pk=item_id, state__in=OPEN_STATES).update(
            assigned_to=to_user, assigned_team=to_team, updated_at=now
        )
        != 1
    ):
        raise ReviewConflict(f"This item was already decided ({item.get_state_display().lower()}).")
    names = [n for n in (to_user and to_user.username, to_team and f"team {to_team.name}") if n]
    ReviewEvent.objects.create(
        item=item,
        actor=by,
        created_at=now,
        from_state=item.state,
        to_state=item.state,
        reason=ReasonCode.ASSIGNED,
        note="to " + " and ".join(names) if names else "unassigned",
        model_score=item.model_score,
    )
    item = ReviewItem.objects.get(pk=item_id)
    if to_user is not None or to_team is not None:
        notifications.notify(kind=notifications.ASSIGNED, item=item)
    return item


def review_items_escalate_overdue(*, now: dt.datetime | None = None) -> list[int]:
    """Escalate every waiting item past its deadline to the senior moderators (an escalated
    item past its deadline is reported again); returns the ids. Items someone holds a live
    claim on are left to them until the claim lapses. Run every minute by the worker."""
    now = now or timezone.now()
    overdue = ReviewItem.objects.filter(
        Q(claimed_by__isnull=True) | Q(claim_expires_at__lte=now),
        state__in=WAITING_STATES,
        due_at__lte=now,
        deadline_missed_at__isnull=True,
    ).values_list("pk", "state", "due_at")
    done = []
    for pk, state, due_at in overdue:
        with transaction.atomic():
            if state == ReviewState.ESCALATED:
                fields = dict(deadline_missed_at=now, updated_at=now)
            else:
                fields = dict(
                    state=ReviewState.ESCALATED,
                    escalated_by=None,
                    claimed_by=None,
                    claim_expires_at=None,
                    updated_at=now,
                    due_at=deadline_for(state=ReviewState.ESCALATED, reason="escalated", now=now),
                )
            changed = ReviewItem.objects.filter(
                Q(claimed_by__isnull=True) | Q(claim_expires_at__lte=now),
                pk=pk,
                state=state,
                due_at=due_at,
                deadline_missed_at__isnull=True,
            ).update(**fields)
            if changed != 1:
                continue
            item = ReviewItem.objects.get(pk=pk)
            if state != ReviewState.ESCALATED:
                ReviewEvent.objects.create(
                    item=item,
                    actor=None,
                    created_at=now,
                    from_state=state,
                    to_state=ReviewState.ESCALATED,
                    reason=ReasonCode.DEADLINE_MISSED,
                    note=f"due {due_at.isoformat(timespec='minutes')}",
                    model_score=item.model_score,
                )
            notifications.notify(kind=notifications.DEADLINE_MISSED, item=item)
            done.append(pk)
    return done


DEADLINES_SCHEDULE = "moderation-deadlines"


def deadlines_schedule_install():
    """The django-q2 schedule that runs review_items_escalate_overdue every minute."""
    from django_q.models import Schedule

    schedule, _ = Schedule.objects.update_or_create(
        name=DEADLINES_SCHEDULE,
        defaults={
            "func": "moderation.tasks.deadlines_enforce",
            "schedule_type": Schedule.MINUTES,
            "minutes": 1,
            "repeats": -1,
        },
    )
    return schedule


# --- Reviewer quality: blind second reviews, known-answer items -------------------------------


@transaction.atomic
def second_review_decide(
    *, review_id: int, moderator, decision: str, reason: str, now: dt.datetime | None = None
) -> SecondReview:
    """A second moderator's blind decision on a sampled item (fake or real; the item's state
    does not change). Its agreement with the first decision is reported on the dashboard."""
    _require_moderator(moderator)
    if decision not in (Decision.FAKE, Decision.REAL):
        raise ValidationError("A second review confirms fake or judges real.", code="decision")
    decision, reason, _ = _clean_decision(decision, reason, "-")
    now = now or timezone.now()
    changed = (
        SecondReview.objects.filter(pk=review_id, second_moderator__isnull=True)
        .exclude(first_moderator=moderator)
        .update(
            second_moderator=moderator,
            second_decision=decision,
            second_reason=reason,
            decided_at=now,
        )
    )
    review = SecondReview.objects.get(pk=review_id)
    if changed != 1:
        raise ReviewConflict(
            "This second review was already made, or the first decision was yours."
            if review.second_moderator_id or review.first_moderator_id == moderator.pk
            else "Not available."
        )
    return review


@transaction.atomic
def known_answer_seed(*, job: AnalysisJob, answer: str, by) -> ReviewItem:
    """Seed a known-answer item into the queue: a copy of a finished analysis of a reference
    video the senior moderator uploaded, whose right answer (fake or real) is known. Moderators
    cannot tell it from other items; their decisions on it measure their accuracy."""
    from detection.models import FaceResult, FrameResult, PersonResult

    if not getattr(by, "is_senior_moderator", False):
        raise PermissionDenied("Only senior moderators and admins seed known-answer items.")
    if answer not in (Decision.FAKE, Decision.REAL):
        raise ValidationError("The known answer is fake or real.", code="answer")
    if job.status != JobStatus.DONE:
        raise ValidationError("Only a finished analysis can be seeded.", code="job")
    if job.video.uploaded_by_id != by.pk:
        # The uploader would see the copy in their list: reference videos are the seeder's own.
        raise ValidationError("Seed your own reference uploads only.", code="job")
    now = timezone.now()
    copy = AnalysisJob.objects.create(
        video=job.video,
        model_version=job.model_version,
        status=JobStatus.DONE,
        created_at=now,
        started_at=job.started_at,
        finished_at=job.finished_at,
        timings=job.timings,
        verdict=job.verdict,
        fake_probability=job.fake_probability,
        frames_sampled=job.frames_sampled,
        frames_with_face=job.frames_with_face,
        faces_scored=job.faces_scored,
    )
    persons = {
        p.pk: PersonResult.objects.create(
            job=copy,
            index=p.index,
            fake_probability=p.fake_probability,
            frames_seen=p.frames_seen,
            counts_for_video=p.counts_for_video,
        )
        for p in job.persons.all()
    }
    for frame in job.frames.prefetch_related("faces"):
        new_frame = FrameResult.objects.create(
            job=copy,
            frame_index=frame.frame_index,
            timestamp_s=frame.timestamp_s,
            fake_probability=frame.fake_probability,
        )
        for face in frame.faces.all():
            FaceResult.objects.create(
                frame=new_frame,
                person=persons.get(face.person_id),
                is_representative=face.is_representative,
                box_x=face.box_x,
                box_y=face.box_y,
                box_w=face.box_w,
                box_h=face.box_h,
                raw_score=face.raw_score,
                fake_probability=face.fake_probability,
                crop=face.crop.name,
            )
    item = review_item_route(job=copy)
    fields = dict(known_answer=answer)
    if item.state == ReviewState.AUTO_CLEARED:  # a known answer is worth a look: queue it
        fields.update(
            state=ReviewState.NEEDS_REVIEW,
            due_at=deadline_for(
                state=ReviewState.NEEDS_REVIEW, reason=ReasonCode.ROUTED_UNCERTAIN, now=now
            ),
        )
        ReviewEvent.objects.create(
            item=item,
            actor=None,
            created_at=now,
            from_state=item.state,
            to_state=ReviewState.NEEDS_REVIEW,
            reason=ReasonCode.ROUTED_UNCERTAIN,
            model_score=item.model_score,
        )
    ReviewItem.objects.filter(pk=item.pk).update(**fields)
    return ReviewItem.objects.get(pk=item.pk)


# --- Appeals ----------------------------------------------------------------------------------


@transaction.atomic
def review_item_appeal(*, job_id, uploader, message: str) -> ReviewItem:
    """The uploader contests an adverse decision (the video judged manipulated), once; the item
    goes back to the queue."""
    message = (message or "").strip()
    if not message:
        raise ValidationError("Say why you disagree with the decision.", code="message")
    if len(message) > 2000:
        raise ValidationError("The message is longer than 2000 characters.", code="message")
    item = ReviewItem.objects.filter(job_id=job_id, job__video__uploaded_by=uploader).first()
    if item is None:
        raise ReviewItem.DoesNotExist("No review of this video.")
    if item.state == ReviewState.OVERTURNED_REAL:
        raise ReviewConflict(
            "This decision cannot be appealed: it was in your favour (the "
            "video was judged authentic)."
        )
    now = timezone.now()
    changed = ReviewItem.objects.filter(
        pk=item.pk,
        state=ReviewState.CONFIRMED_FAKE,
        appealed_at__isnull=True,
    ).update(
        state=ReviewState.APPEALED,
        appeal_message=message,
        appealed_at=now,
        updated_at=now,
        due_at=deadline_for(state=ReviewState.APPEALED, reason=ReasonCode.APPEAL, now=now),
        deadline_missed_at=None,
    )
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
    item = ReviewItem.objects.get(pk=item.pk)
    notifications.notify(kind=notifications.APPEAL, item=item)
    return item


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


# --- Calibration from decisions -----------------------------------------------------------------


def model_version_calibrate_from_decisions(
    *,
    model_version,
    max_miss: float = 0.1,
    max_false_flag: float = 0.1,
    min_per_class: int | None = None,
    by=None,
):
    """A new candidate version of `model_version` whose video mapping and band are refitted on
    its decided items (`selectors.calibration_from_decisions`), with the figures in its
    metrics["calibration_from_decisions"]; returns (the new version, the fit). It serves
    nothing until it goes through shadow and promotion. ValueError when the decisions cannot
    be fitted (nothing is written then)."""
    fit = calibration_from_decisions(
        model_version,
        max_miss=max_miss,
        max_false_flag=max_false_flag,
        min_per_class=min_per_class,
    )
    figures = fit.as_metrics(timezone.now().isoformat(timespec="seconds"))
    figures["by"] = getattr(by, "username", "")

    notes = (
        f"{model_version.name} v{model_version.version}'s video probability and band refitted "
        f"on the site's decided items (manage.py calibrate_from_decisions):\n\n"
        + "\n".join(f"    {line}" for line in describe(fit).splitlines())
    )
    new = model_version_derive(
        parent=model_version,
        changes=fit.changes,
        notes=notes,
        metrics={"calibration_from_decisions": figures},
    )
    return new, fit


# --- Model versions: promotion rests on the moderators' decisions -----------------------------


class PromotionRefused(ValidationError):
    """The candidate is worse than the active version on the decided items (or they are too
    few); the message gives the figures."""


def _figures(comparison) -> str:
    def f(x):
        return "–" if x is None else f"{x:.3f}"

    return (
        f"{comparison.decided} decided items both scored ({comparison.fakes} fake, "
        f"{comparison.reals} real); AUC candidate {f(comparison.candidate_auc)} vs active "
        f"{f(comparison.active_auc)}; recall at the active version's false-positive rate "
        f"{f(comparison.active_fpr)}: candidate {f(comparison.candidate_recall)} vs active "
        f"{f(comparison.active_recall)}"
    )


@transaction.atomic
def model_version_promote(*, candidate, by, reason: str, override_reason: str = ""):
    """Make a candidate (shadow) version active, the active one retired, if it is no worse than
    the active version on the items moderators decided that both scored: its AUC no lower, its
    recall at the active version's false-positive rate no lower, and at least
    MODEL_PROMOTION_MIN_DECIDED such items. Otherwise refused with the figures, unless an
    `override_reason` is given (recorded). Audited with the comparison's figures."""
    reason, override_reason = (reason or "").strip(), (override_reason or "").strip()
    if not reason:
        raise ValidationError("A promotion needs a reason.")
    if candidate.state == ModelState.ACTIVE:
        raise ValidationError(f"{candidate} is already the active version.")
    comparison = shadow_comparison(candidate=candidate)
    shortfalls = comparison.shortfalls(min_decided=settings.MODEL_PROMOTION_MIN_DECIDED)
    if shortfalls and not override_reason:
        raise PromotionRefused(
            f"{candidate} is not promoted: {'; '.join(shortfalls)}. Figures: "
            f"{_figures(comparison)}. Give an override reason to promote it all the same."
        )
    snapshot = {**comparison.snapshot(), "shortfalls": shortfalls}
    return model_version_activate(
        model_version=candidate,
        by=by,
        reason=reason,
        override_reason=override_reason,
        comparison=snapshot,
    )
