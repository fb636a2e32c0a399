"""Reads for the review queue, the evidence page and the dashboard."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.core.exceptions import FieldDoesNotExist
from django.db.models import Count, F, Min, Q, QuerySet
from django.db.models.functions import TruncDate
from django.http import Http404
from django.utils import timezone

from detection.charts import Point, band_text, face_band_caption, p_text, score_timeline_svg
from detection.models import (
    AnalysisJob,
    FaceResult,
    JobStatus,
    ModelState,
    ModelVersion,
    ShadowResult,
    Verdict,
)
from detection.selectors import job_segments

from .models import (
    DECIDED_STATES,
    QUEUES,
    WAITING_STATES,
    HeatmapOverlay,
    ReasonCode,
    ReviewEvent,
    ReviewItem,
    ReviewState,
    SecondReview,
    clock,
)

PRIORITY = (F("model_score").desc(nulls_last=True), "job__created_at", "id")


def review_items() -> QuerySet[ReviewItem]:
    return ReviewItem.objects.select_related(
        "job",
        "job__video",
        "job__video__uploaded_by",
        "model_version",
        "claimed_by",
        "assigned_to",
        "assigned_team",
    )


def review_items_offered_to(moderator) -> QuerySet[ReviewItem]:
    """The items a moderator is shown: never their own uploads (a conflict of interest)."""
    return review_items().exclude(job__video__uploaded_by=moderator)


QUEUE_LABELS = {
    "flagged": "Flagged",
    "needs_review": "Needs review",
    "escalated": "Escalated",
    "appealed": "Appeals",
    "waiting": "Everything waiting",
}


@dataclass
class QueueCount:
    key: str
    label: str
    count: int
    overdue: int


def queue_counts(now: dt.datetime | None = None) -> list[QueueCount]:
    """Each queue's waiting items and how many are past their deadline."""
    now = now or timezone.now()
    rows = {
        r["state"]: r
        for r in ReviewItem.objects.filter(state__in=WAITING_STATES)
        .values("state")
        .annotate(n=Count("id"), overdue=Count("id", filter=Q(due_at__lte=now)))
    }
    return [
        QueueCount(
            key,
            QUEUE_LABELS[key],
            sum(rows.get(s, {}).get("n", 0) for s in states),
            sum(rows.get(s, {}).get("overdue", 0) for s in states),
        )
        for key, states in QUEUES.items()
    ]


def queue_for_state(state: str) -> str:
    """The queue an item in this state is worked from ("waiting" when none)."""
    return state if state in QUEUES else "waiting"


def second_reviews_waiting(moderator) -> QuerySet[SecondReview]:
    """Blind second reviews this moderator may make (never of their own decisions)."""
    return (
        SecondReview.objects.filter(second_moderator__isnull=True)
        .exclude(first_moderator=moderator)
        .select_related("item__job__video")
        .order_by("created_at", "id")
    )


def second_review_get(pk: int, moderator) -> SecondReview:
    try:
        return second_reviews_waiting(moderator).get(pk=pk)
    except SecondReview.DoesNotExist:
        raise Http404("No such second review waiting for you") from None


def review_queue() -> QuerySet[ReviewItem]:
    """What waits for a moderator: most confident fakes first, then oldest."""
    return review_items().filter(state__in=WAITING_STATES).order_by(*PRIORITY)


def review_item_get(pk: int) -> ReviewItem:
    try:
        return review_items().get(pk=pk)
    except ReviewItem.DoesNotExist:
        raise Http404("No such review item") from None


def review_item_for_job(job: AnalysisJob) -> ReviewItem | None:
    return ReviewItem.objects.filter(job=job).first()


def review_history(item: ReviewItem) -> QuerySet[ReviewEvent]:
    return item.events.select_related("actor").order_by("created_at", "id")


def heatmap_get(pk: int) -> HeatmapOverlay:
    try:
        return HeatmapOverlay.objects.get(pk=pk)
    except HeatmapOverlay.DoesNotExist:
        raise Http404("No such heatmap") from None


# --- Evidence ---------------------------------------------------------------------------------


@dataclass
class PersonGroup:
    label: str
    fake_probability: float | None
    faces: list = field(default_factory=list)
    brief: bool = False


def _faces_have_persons() -> bool:
    # Person tracking is newer than the queue: work with and without it.
    try:
        FaceResult._meta.get_field("person")
    except FieldDoesNotExist:
        return False
    return True


def evidence_groups(job: AnalysisJob) -> list[PersonGroup]:
    """The job's scored crops, most suspicious first, one group per tracked person."""
    faces = list(
        FaceResult.objects.filter(frame__job=job)
        .select_related("frame")
        .order_by("-fake_probability", "id")
    )
    heatmaps = {
        h.face_id: h
        for h in HeatmapOverlay.objects.filter(
            face__frame__job=job, model_version_id=job.model_version_id
        )
    }
    for face in faces:
        face.heatmap = heatmaps.get(face.id)
    if not faces:
        return []
    if _faces_have_persons() and any(getattr(f, "person_id", None) for f in faces):
        groups: dict = {}
        for person in job.persons.order_by("index"):
            groups[person.id] = PersonGroup(
                label=person.label,
                fake_probability=person.fake_probability,
                brief=not getattr(person, "counts_for_video", True),
            )
        loose = PersonGroup(label="Not assigned to a person", fake_probability=None)
        for face in faces:
            groups.get(face.person_id, loose).faces.append(face)
        ordered = [g for g in groups.values() if g.faces]
        return ordered + ([loose] if loose.faces else [])
    return [PersonGroup(label="All faces", fake_probability=job.fake_probability, faces=faces)]


def evidence_timeline(job: AnalysisJob):
    """The score timeline (server-side SVG), with one line per tracked person when known."""
    version = job.model_version
    frames = list(job.frames.order_by("frame_index"))
    if not frames or version is None:
        return None
    persons = []
    if _faces_have_persons():
        by_person: dict[int, dict[float, float]] = {}
        labels = {p.id: p.label for p in job.persons.all()}
        for face in FaceResult.objects.filter(frame__job=job, person__isnull=False).select_related(
            "frame"
        ):
            per_t = by_person.setdefault(face.person_id, {})
            t = face.frame.timestamp_s
            per_t[t] = max(per_t.get(t, 0.0), face.fake_probability)
        if len(by_person) > 1:  # one person's line is the frame line itself
            persons = [
                (labels.get(pid, "?"), [Point(t, p) for t, p in sorted(points.items())])
                for pid, points in sorted(by_person.items())
            ]
    return score_timeline_svg(
        [Point(f.timestamp_s, f.fake_probability) for f in frames],
        duration_s=job.video.duration_s or 0.0,
        band=version.face_band,
        caption=face_band_caption(version.face_band),
        fake_threshold=version.fake_threshold,
        persons=persons,
        segments=job_segments(job.persons.all()),
    )


@dataclass(frozen=True)
class Segment:
    start_s: float
    end_s: float
    label: str
    source: str  # "model" or "decision"

    @property
    def text(self) -> str:
        return f"{clock(self.start_s)}–{clock(self.end_s)}"


def flagged_segments(item: ReviewItem) -> list[Segment]:
    """Where to look: the time ranges moderators decided on, the detector's confident fake
    stretches per person, then the runs of sampled frames the model scored at or above its
    fake threshold (each run padded by half a sample gap)."""
    out = [
        Segment(e.start_s, e.end_s, f"{e.get_to_state_display()} · {e.part}", "decision")
        for e in item.events.filter(start_s__isnull=False).order_by("created_at", "id")
    ]
    out += [
        Segment(start, end, f"{label} looks manipulated (p {p:.2f})", "model")
        for label, start, end, p in job_segments(item.job.persons.all())
    ]
    job, version = item.job, item.job.model_version
    frames = list(job.frames.order_by("frame_index").values_list("timestamp_s", "fake_probability"))
    if version is None or not frames:
        return out
    gap = (frames[-1][0] - frames[0][0]) / (len(frames) - 1) if len(frames) > 1 else 0.5
    duration = job.video.duration_s or frames[-1][0] + gap / 2
    run: list[float] = []
    for t, p in [*frames, (None, None)]:
        if p is not None and p >= version.fake_threshold:
            run.append(t)
            continue
        if run:
            out.append(
                Segment(
                    max(0.0, run[0] - gap / 2),
                    min(duration, run[-1] + gap / 2),
                    f"model p ≥ {p_text(version.fake_threshold)}",
                    "model",
                )
            )
            run = []
    return out


# --- Dashboard --------------------------------------------------------------------------------


@dataclass
class QueueRow:
    state: str
    label: str
    count: int
    oldest: dt.datetime | None
    under_hour: int
    under_day: int
    under_week: int
    older: int


def dashboard_queue(now: dt.datetime) -> list[QueueRow]:
    hour, day, week = (
        now - dt.timedelta(hours=1),
        now - dt.timedelta(days=1),
        now - dt.timedelta(days=7),
    )
    rows = {
        r["state"]: r
        for r in ReviewItem.objects.values("state").annotate(
            count=Count("id"),
            oldest=Min("created_at"),
            under_hour=Count("id", filter=Q(created_at__gte=hour)),
            under_day=Count("id", filter=Q(created_at__lt=hour, created_at__gte=day)),
            under_week=Count("id", filter=Q(created_at__lt=day, created_at__gte=week)),
            older=Count("id", filter=Q(created_at__lt=week)),
        )
    }
    out = []
    for state in (*WAITING_STATES, ReviewState.AUTO_CLEARED):
        r = rows.get(state, {})
        out.append(
            QueueRow(
                state=state,
                label=ReviewState(state).label,
                count=r.get("count", 0),
                oldest=r.get("oldest"),
                under_hour=r.get("under_hour", 0),
                under_day=r.get("under_day", 0),
                under_week=r.get("under_week", 0),
                older=r.get("older", 0),
            )
        )
    return out


def dashboard_decisions_per_day(now: dt.datetime, days: int = 14) -> list[dict]:
    """Human decisions per day (confirm, overturn, escalate), oldest day first."""
    since = (now - dt.timedelta(days=days - 1)).date()
    counted = (
        ReviewEvent.objects.filter(
            actor__isnull=False,
            created_at__date__gte=since,
            to_state__in=[*DECIDED_STATES, ReviewState.ESCALATED],
        )
        .exclude(reason=ReasonCode.ASSIGNED)  # an assignment is not a decision
        .annotate(day=TruncDate("created_at"))
        .values("day", "to_state")
        .annotate(n=Count("id"))
    )
    table = {
        since + dt.timedelta(days=i): {s: 0 for s in (*DECIDED_STATES, ReviewState.ESCALATED)}
        for i in range(days)
    }
    for row in counted:
        if row["day"] in table:
            table[row["day"]][row["to_state"]] = row["n"]
    return [{"day": day, **counts} for day, counts in table.items()]


@dataclass
class Agreement:
    """One model version's calls on decided videos, read against its video band (low, high):
    fake from high, real under low, uncertain in between. An uncertain item is no call, so it is
    neither a true nor a false positive (nor negative): it is counted apart."""

    version: str
    band: tuple[float, float]
    decided: int
    no_score: int
    uncertain: int
    tp: int
    fp: int
    fn: int
    tn: int

    @property
    def band_text(self) -> str:
        return f"fake from {p_text(self.band[1])}, uncertain {band_text(self.band)}"

    @property
    def scored(self) -> int:
        """Items the model made a call on (fake or real)."""
        return self.tp + self.fp + self.fn + self.tn

    @property
    def precision(self) -> float | None:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None

    @property
    def recall(self) -> float | None:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else None

    @property
    def overturn_rate(self) -> float | None:
        """Share of the model's calls (uncertain items left out) that moderators overturned."""
        return (self.fp + self.fn) / self.scored if self.scored else None


def dashboard_agreement() -> list[Agreement]:
    """Model versus moderators, per model version, each read against its current video band.

    Ground truth is the item's standing human decision (after appeal, if any); items with no
    face (no score) and uncertain items (scored inside the band, or held back below it) are
    counted apart. The bands
    come from the versions in Python (`ModelVersion.video_band`), not from their columns.
    """
    decided_items = ReviewItem.objects.filter(state__in=DECIDED_STATES, model_version__isnull=False)
    versions = ModelVersion.objects.filter(pk__in=decided_items.values("model_version")).order_by(
        "name", "version"
    )
    bands = {v.pk: v.video_band for v in versions}
    if not bands:
        return []
    said_fake, said_real = Q(), Q()  # each version read against its own band, OR'ed
    for pk, (low, high) in bands.items():
        said_fake |= Q(model_version=pk, model_score__gte=high)
        # Below the band but held back from clearing (a fake stretch, a brief fake person,
        # input unlike the training data): the model did not say real, and routing sent it
        # to review, so it counts as uncertain.
        said_real |= Q(model_version=pk, model_score__lt=low) & ~Q(model_verdict=Verdict.UNCERTAIN)
    in_band = Q(model_score__isnull=False) & ~said_fake & ~said_real
    fake, real = Q(state=ReviewState.CONFIRMED_FAKE), Q(state=ReviewState.OVERTURNED_REAL)
    counts = {
        r["model_version"]: r
        for r in decided_items.values("model_version").annotate(
            decided=Count("id"),
            no_score=Count("id", filter=Q(model_score__isnull=True)),
            uncertain=Count("id", filter=in_band),
            tp=Count("id", filter=fake & said_fake),
            fp=Count("id", filter=real & said_fake),
            fn=Count("id", filter=fake & said_real),
            tn=Count("id", filter=real & said_real),
        )
    }
    return [
        Agreement(
            version=f"{v.name} v{v.version}",
            band=bands[v.pk],
            **{k: n for k, n in counts[v.pk].items() if k != "model_version"},
        )
        for v in versions
        if v.pk in counts
    ]


@dataclass
class AgreementRow:
    key: str
    reviews: int
    agreed: int

    @property
    def rate(self) -> float | None:
        return self.agreed / self.reviews if self.reviews else None


def second_review_agreement() -> dict[str, list[AgreementRow]]:
    """Blind second reviews made, and how often they agreed with the first decision, per first
    moderator and per first reason."""
    done = SecondReview.objects.filter(second_moderator__isnull=False)
    agreed = Q(second_decision=F("first_decision"))
    out = {}
    for name, field_name in (
        ("moderator", "first_moderator__username"),
        ("reason", "first_reason"),
    ):
        rows = (
            done.values(field_name)
            .annotate(n=Count("id"), ok=Count("id", filter=agreed))
            .order_by(field_name)
        )
        out[name] = [
            AgreementRow(
                key=ReasonCode(r[field_name]).label if name == "reason" else r[field_name],
                reviews=r["n"],
                agreed=r["ok"],
            )
            for r in rows
        ]
    return out


def known_answer_accuracy() -> list[AgreementRow]:
    """Each moderator's decisions on known-answer items and how many were right."""
    right = Q(to_state=ReviewState.CONFIRMED_FAKE, item__known_answer="fake") | Q(
        to_state=ReviewState.OVERTURNED_REAL, item__known_answer="real"
    )
    rows = (
        ReviewEvent.objects.filter(actor__isnull=False, to_state__in=DECIDED_STATES)
        .exclude(item__known_answer="")
        .values("actor__username")
        .annotate(n=Count("id"), ok=Count("id", filter=right))
        .order_by("actor__username")
    )
    return [AgreementRow(key=r["actor__username"], reviews=r["n"], agreed=r["ok"]) for r in rows]


def decisions_for_export(since: dt.date | None = None, until: dt.date | None = None):
    """Human decisions (confirm, overturn, escalate), oldest first, for the CSV export."""
    qs = (
        ReviewEvent.objects.filter(
            actor__isnull=False, to_state__in=[*DECIDED_STATES, ReviewState.ESCALATED]
        )
        .exclude(reason__in=[ReasonCode.APPEAL, ReasonCode.ASSIGNED])
        .select_related("actor", "item__job__video")
        .order_by("created_at", "id")
    )
    if since:
        qs = qs.filter(created_at__date__gte=since)
    if until:
        qs = qs.filter(created_at__date__lte=until)
    return qs


# --- Shadow versions against the active one ----------------------------------------------------


@dataclass
class Comparison:
    """A candidate (shadow) version against the active one, on the moderators' decisions.

    `decided`, `fakes`, `reals`: items moderators decided (confirmed fake / judged real) that both
    versions scored: the active at routing (`ReviewItem.model_score`), the candidate in shadow.
    `active_fpr`: the active version's share of those reals at or above its own video band's
    high end; each recall is the share of fakes caught at that false-positive rate (the
    candidate at the lowest threshold on its scores whose false-positive rate is no higher).
    `scored`: jobs of the active version the candidate scored in shadow (decided or not);
    `*_to_review`: how many of them each version would have sent to a moderator.
    """

    candidate: ModelVersion
    active: ModelVersion | None
    decided: int = 0
    fakes: int = 0
    reals: int = 0
    active_auc: float | None = None
    candidate_auc: float | None = None
    active_threshold: float | None = None
    active_fpr: float | None = None
    active_recall: float | None = None
    candidate_threshold: float | None = None
    candidate_fpr: float | None = None
    candidate_recall: float | None = None
    scored: int = 0
    active_to_review: int = 0
    candidate_to_review: int = 0
    failures: int = 0
    pending: int = 0

    def shortfalls(self, *, min_decided: int) -> list[str]:
        """Why the candidate cannot be promoted on these figures ([]: it can)."""
        out = []
        if self.active is None:
            return out  # nothing to be worse than
        if self.decided < min_decided:
            out.append(
                f"only {self.decided} decided items scored by both versions (at least "
                f"{min_decided} needed)"
            )
        if self.candidate_auc is None or self.active_auc is None:
            out.append("no AUC: the decided items need both fakes and reals")
        elif self.candidate_auc < self.active_auc:
            out.append(
                f"AUC {self.candidate_auc:.3f} is below the active version's {self.active_auc:.3f}"
            )
        if self.candidate_recall is not None and self.active_recall is not None:
            if self.candidate_recall < self.active_recall:
                out.append(
                    f"recall {self.candidate_recall:.3f} at the active version's false-positive "
                    f"rate {self.active_fpr:.3f} is below the active version's "
                    f"{self.active_recall:.3f}"
                )
        return out

    def snapshot(self) -> dict:
        """The figures as JSON (kept with a promotion's audit event)."""
        figures = {
            k: getattr(self, k)
            for k in (
                "decided",
                "fakes",
                "reals",
                "active_auc",
                "candidate_auc",
                "active_threshold",
                "active_fpr",
                "active_recall",
                "candidate_threshold",
                "candidate_fpr",
                "candidate_recall",
                "scored",
                "active_to_review",
                "candidate_to_review",
                "failures",
                "pending",
            )
        }
        return {
            "candidate": {"id": self.candidate.pk, "name": str(self.candidate)},
            "active": {"id": self.active.pk, "name": str(self.active)} if self.active else None,
            **figures,
        }


def _rate(hits: int, total: int) -> float | None:
    return hits / total if total else None


def _recall_at_fpr(labels: list[int], scores: list[float], max_fpr: float):
    """(threshold, fpr, recall) at the lowest threshold on `scores` whose false-positive rate is
    at most `max_fpr` (None where there are no reals or no fakes)."""
    reals = [s for y, s in zip(labels, scores, strict=True) if y == 0]
    fakes = [s for y, s in zip(labels, scores, strict=True) if y == 1]
    if not reals or not fakes:
        return None, None, None
    best = (float("inf"), 0.0, 0.0)  # nothing called fake: no false positive, no recall
    for t in sorted(set(scores)):
        fpr = sum(s >= t for s in reals) / len(reals)
        if fpr <= max_fpr:
            best = (t, fpr, sum(s >= t for s in fakes) / len(fakes))
            break  # the lowest such threshold catches the most fakes
    return best


def shadow_comparison(*, candidate: ModelVersion, active: ModelVersion | None = None) -> Comparison:
    """The candidate's shadow scores against the active version's on the same uploads."""
    from detection.training.evaluation.metrics import auc

    from .services import route_for_score

    if active is None:
        active = ModelVersion.objects.filter(state=ModelState.ACTIVE).first()
    shadows = ShadowResult.objects.filter(model_version=candidate)
    out = Comparison(
        candidate=candidate,
        active=active,
        failures=shadows.filter(status=JobStatus.FAILED).count(),
        pending=shadows.filter(status__in=[JobStatus.QUEUED, JobStatus.RUNNING]).count(),
    )
    if active is None:
        return out
    done = shadows.filter(status=JobStatus.DONE, job__model_version=active).select_related("job")
    # Items each version would send to a moderator, over every job both scored.
    for row in done:
        job = row.job
        if job.status != JobStatus.DONE:
            continue
        out.scored += 1
        state, _ = route_for_score(
            probability=job.fake_probability, verdict=job.verdict, band=active.video_band
        )
        out.active_to_review += state != ReviewState.AUTO_CLEARED
        state, _ = route_for_score(
            probability=row.fake_probability, verdict=row.verdict, band=candidate.video_band
        )
        out.candidate_to_review += state != ReviewState.AUTO_CLEARED
    # The decided items both versions scored.
    shadow_p = dict(
        done.filter(fake_probability__isnull=False).values_list("job_id", "fake_probability")
    )
    items = ReviewItem.objects.filter(
        state__in=DECIDED_STATES,
        model_version=active,
        model_score__isnull=False,
        job_id__in=list(shadow_p),
    ).values_list("job_id", "state", "model_score")
    labels, active_p, candidate_p = [], [], []
    for job_id, state, score in items:
        labels.append(1 if state == ReviewState.CONFIRMED_FAKE else 0)
        active_p.append(score)
        candidate_p.append(shadow_p[job_id])
    out.decided, out.fakes = len(labels), sum(labels)
    out.reals = out.decided - out.fakes
    if not labels:
        return out
    out.active_auc, out.candidate_auc = auc(labels, active_p), auc(labels, candidate_p)
    high = active.video_band[1]
    out.active_threshold = high
    real_p = [p for y, p in zip(labels, active_p, strict=True) if y == 0]
    fake_p = [p for y, p in zip(labels, active_p, strict=True) if y == 1]
    out.active_fpr = _rate(sum(p >= high for p in real_p), len(real_p))
    out.active_recall = _rate(sum(p >= high for p in fake_p), len(fake_p))
    if out.active_fpr is not None and out.active_recall is not None:
        threshold, fpr, recall = _recall_at_fpr(labels, candidate_p, out.active_fpr)
        out.candidate_threshold = None if threshold == float("inf") else threshold
        out.candidate_fpr, out.candidate_recall = fpr, recall
    return out


def shadow_versions_compared(now: dt.datetime, days: int = 30) -> list[Comparison]:
    """Each version in shadow, and each that scored in shadow in the last `days`, against the
    active version."""
    recent = ShadowResult.objects.filter(created_at__gte=now - dt.timedelta(days=days))
    versions = (
        ModelVersion.objects.filter(
            Q(state=ModelState.SHADOW) | Q(pk__in=recent.values("model_version"))
        )
        .exclude(state=ModelState.ACTIVE)
        .order_by("name", "version")
    )
    active = ModelVersion.objects.filter(state=ModelState.ACTIVE).first()
    return [shadow_comparison(candidate=v, active=active) for v in versions]


def dashboard(now: dt.datetime | None = None) -> dict:
    now = now or timezone.now()
    return {
        "now": now,
        "queue": dashboard_queue(now),
        "per_day": dashboard_decisions_per_day(now),
        "agreement": dashboard_agreement(),
        "second_review": second_review_agreement(),
        "known_answers": known_answer_accuracy(),
        "shadow_versions": shadow_versions_compared(now),
    }


# --- Calibration from decisions ---------------------------------------------------------------


@dataclass(frozen=True)
class DecidedScores:
    """A model version's decided items as labels (1 confirmed fake, 0 judged real) and the
    video probability the version gave each when it was routed."""

    labels: list[int]
    probabilities: list[float]
    left_out: int  # decided items without a score (no face found)


def decided_scores_for(version) -> DecidedScores:
    """The site's ground truth on what `version` scored: its items in a decided state (an
    appeal reopens an item until it is decided again). Known-answer items are left out: they
    are copies of reference videos seeded to measure moderators, not what the site received."""
    rows = list(
        ReviewItem.objects.filter(model_version=version, state__in=DECIDED_STATES, known_answer="")
        .order_by("id")
        .values_list("state", "model_score")
    )
    scored = [(state, score) for state, score in rows if score is not None]
    return DecidedScores(
        labels=[int(state == ReviewState.CONFIRMED_FAKE) for state, _ in scored],
        probabilities=[float(score) for _, score in scored],
        left_out=len(rows) - len(scored),
    )


def calibration_from_decisions(
    version, *, max_miss: float, max_false_flag: float, min_per_class: int | None = None
):
    """`version`'s video mapping and band refitted on its decided items, with the figures
    before and after (`decisions.DecisionCalibration`); nothing is written. ValueError when
    they cannot be fitted (too few decisions, scores that do not rank them, a version whose
    probabilities cannot be recalibrated exactly)."""
    from detection.training.evaluation import decisions  # numpy and scikit-learn: on demand

    scores = decided_scores_for(version)
    return decisions.fit_from_decisions(
        version.to_spec(),
        scores.labels,
        scores.probabilities,
        left_out=scores.left_out,
        max_miss=max_miss,
        max_false_flag=max_false_flag,
        min_per_class=decisions.MIN_PER_CLASS if min_per_class is None else min_per_class,
    )
