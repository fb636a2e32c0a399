"""The review queue: one item per finished analysis, its claim, and an append-only history."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from detection.append_only import AppendOnlyModel
from detection.models import AnalysisJob, FaceResult, ModelVersion


class ReviewState(models.TextChoices):
    # Set by routing (the model's call, before any human looked).
    FLAGGED = "flagged", "Flagged by the model"
    NEEDS_REVIEW = "needs_review", "Needs review"
    AUTO_CLEARED = "auto_cleared", "Auto-cleared"
    # Set by people.
    ESCALATED = "escalated", "Escalated"
    CONFIRMED_FAKE = "confirmed_fake", "Confirmed fake"
    OVERTURNED_REAL = "overturned_real", "Judged real"
    APPEALED = "appealed", "Appealed"


# A moderator can claim and decide these. Auto-cleared items stay reviewable.
OPEN_STATES = (
    ReviewState.FLAGGED,
    ReviewState.NEEDS_REVIEW,
    ReviewState.AUTO_CLEARED,
    ReviewState.ESCALATED,
    ReviewState.APPEALED,
)
# The default queue: what waits for a human (auto-cleared is behind a filter).
WAITING_STATES = (
    ReviewState.FLAGGED,
    ReviewState.NEEDS_REVIEW,
    ReviewState.ESCALATED,
    ReviewState.APPEALED,
)
DECIDED_STATES = (ReviewState.CONFIRMED_FAKE, ReviewState.OVERTURNED_REAL)


class Decision(models.TextChoices):
    FAKE = "fake", "Confirm fake"
    REAL = "real", "Overturn: real"
    ESCALATE = "escalate", "Escalate"


DECISION_TO_STATE = {
    Decision.FAKE: ReviewState.CONFIRMED_FAKE,
    Decision.REAL: ReviewState.OVERTURNED_REAL,
    Decision.ESCALATE: ReviewState.ESCALATED,
}


class ReasonCode(models.TextChoices):
    # Written by the system.
    ROUTED_FLAGGED = "routed_flagged", "Model score at or above the flag threshold"
    ROUTED_UNCERTAIN = "routed_uncertain", "Model score in the uncertain band"
    ROUTED_NO_FACE = "routed_no_face", "No face found"
    ROUTED_CLEARED = "routed_cleared", "Model score below the uncertain band"
    ROUTED_REVIEW_FLOOR = (
        "routed_review_floor",
        "Model score below the uncertain band, at or above the site's review floor",
    )
    APPEAL = "appeal", "Uploader appealed"
    DEADLINE_MISSED = "deadline_missed", "The review deadline was missed"
    ASSIGNED = "assigned", "Assigned"
    # Chosen by moderators.
    ARTEFACTS = "artefacts", "Visible blending, warping or texture artefacts"
    KNOWN_MANIPULATION = "known_manipulation", "Matches a known manipulated source"
    AV_MISMATCH = "av_mismatch", "Lip movement does not match the speech"
    NO_ARTEFACTS = "no_artefacts", "No sign of manipulation on close inspection"
    AUTHENTIC_SOURCE = "authentic_source", "Verified authentic source"
    MODEL_ERROR = "model_error", "Model misled (lighting, compression, pose, make-up)"
    NOT_A_FACE = "not_a_face", "The detected face is not a real face (drawing, mask, object)"
    SECOND_OPINION = "second_opinion", "Needs a second opinion"
    POLICY = "policy", "Policy question for a senior moderator"
    OTHER = "other", "Other (see the note)"


SYSTEM_REASONS = {
    ReasonCode.ROUTED_FLAGGED,
    ReasonCode.ROUTED_UNCERTAIN,
    ReasonCode.ROUTED_NO_FACE,
    ReasonCode.ROUTED_CLEARED,
    ReasonCode.ROUTED_REVIEW_FLOOR,
    ReasonCode.APPEAL,
    ReasonCode.DEADLINE_MISSED,
    ReasonCode.ASSIGNED,
}
MODERATOR_REASONS = [(c.value, c.label) for c in ReasonCode if c not in SYSTEM_REASONS]

# Each decision has its own reasons: "Confirm fake - Verified authentic source" is refused.
REASONS_BY_DECISION = {
    Decision.FAKE: (
        ReasonCode.ARTEFACTS,
        ReasonCode.KNOWN_MANIPULATION,
        ReasonCode.AV_MISMATCH,
        ReasonCode.OTHER,
    ),
    Decision.REAL: (
        ReasonCode.NO_ARTEFACTS,
        ReasonCode.AUTHENTIC_SOURCE,
        ReasonCode.MODEL_ERROR,
        ReasonCode.NOT_A_FACE,
        ReasonCode.OTHER,
    ),
    Decision.ESCALATE: (ReasonCode.SECOND_OPINION, ReasonCode.POLICY, ReasonCode.OTHER),
}


def reasons_for(decision: str) -> list[tuple[str, str]]:
    """(code, label) of the reasons that fit a decision, in their fixed order."""
    return [(c.value, c.label) for c in REASONS_BY_DECISION.get(decision, ())]


# The queues a moderator works through, by state; "claim next" takes the top item of one.
QUEUES = {
    "flagged": (ReviewState.FLAGGED,),
    "needs_review": (ReviewState.NEEDS_REVIEW,),
    "escalated": (ReviewState.ESCALATED,),
    "appealed": (ReviewState.APPEALED,),
    "waiting": WAITING_STATES,
}


class ReviewItem(models.Model):
    """What a moderator works on: one finished analysis job."""

    job = models.OneToOneField(AnalysisJob, on_delete=models.CASCADE, related_name="review")
    state = models.CharField(max_length=20, choices=ReviewState.choices, db_index=True)
    # The model's call when the item was routed (a later re-run does not rewrite history).
    model_version = models.ForeignKey(
        ModelVersion, on_delete=models.PROTECT, null=True, blank=True, related_name="review_items"
    )
    model_score = models.FloatField(null=True, blank=True)
    model_verdict = models.CharField(max_length=16, blank=True)
    created_at = models.DateTimeField(db_index=True)
    updated_at = models.DateTimeField()
    # Claim: set and cleared only by conditional UPDATEs (see services.py).
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    claim_expires_at = models.DateTimeField(null=True, blank=True)
    # Who decided what, for the rules "an appeal goes to someone else" and "an escalation goes
    # to someone else".
    first_decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    first_decided_at = models.DateTimeField(null=True, blank=True)
    escalated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    appeal_message = models.TextField(blank=True)
    appealed_at = models.DateTimeField(null=True, blank=True)
    appeal_decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    appeal_decided_at = models.DateTimeField(null=True, blank=True)
    # Assignment: to one moderator, or to a team (either, both or neither).
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="review_assignments",
    )
    assigned_team = models.ForeignKey(
        "accounts.Team",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="review_items",
    )
    # Deadline of the item's current wait (set on routing, appeal and escalation, from
    # MODERATION_DEADLINES); missed_at once it was missed (and escalated).
    due_at = models.DateTimeField(null=True, blank=True, db_index=True)
    deadline_missed_at = models.DateTimeField(null=True, blank=True)
    # A known-answer item seeded into the queue to measure moderators' accuracy.
    known_answer = models.CharField(
        max_length=8, blank=True, choices=[("fake", "Fake"), ("real", "Real")]
    )

    class Meta:
        ordering = [F("model_score").desc(nulls_last=True), "created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(state__in=ReviewState.values), name="review_state_known"
            ),
            # A claim has a holder and an expiry, or neither.
            models.CheckConstraint(
                condition=Q(claimed_by__isnull=True, claim_expires_at__isnull=True)
                | Q(claimed_by__isnull=False, claim_expires_at__isnull=False),
                name="review_claim_complete",
            ),
            # A decided item says who decided it first.
            models.CheckConstraint(
                condition=~Q(state__in=[*DECIDED_STATES, ReviewState.APPEALED])
                | Q(first_decided_by__isnull=False),
                name="review_decided_has_decider",
            ),
            # The database refuses an appeal decided by the moderator who made the first decision.
            models.CheckConstraint(
                condition=~Q(appeal_decided_by=F("first_decided_by")),
                name="review_appeal_by_another_moderator",
            ),
            models.CheckConstraint(
                condition=Q(appealed_at__isnull=True) | ~Q(appeal_message=""),
                name="review_appeal_has_message",
            ),
        ]

    def __str__(self):
        return f"Review of {self.job.video} ({self.get_state_display()})"

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    @property
    def is_appeal(self) -> bool:
        """An appeal waiting for its decision (possibly escalated on the way)."""
        return self.appealed_at is not None and self.appeal_decided_by_id is None

    def decider_bar(self, user) -> str:
        """Why this user may not decide the item now (empty if they may); mirrors the rules
        the services enforce in their UPDATEs."""
        if self.job.video.uploaded_by_id == user.pk:
            return "You uploaded this video: another moderator decides it."
        if self.state == ReviewState.APPEALED and self.first_decided_by_id == user.pk:
            return "You made the first decision on this item: its appeal goes to another moderator."
        if self.state == ReviewState.ESCALATED and (
            self.escalated_by_id == user.pk
            or (self.is_appeal and self.first_decided_by_id == user.pk)
        ):
            return "You escalated this item (or decided it first): another moderator decides it."
        return ""

    @property
    def can_be_appealed(self) -> bool:
        """Only an adverse decision (the video judged manipulated) can be appealed, once."""
        return self.state == ReviewState.CONFIRMED_FAKE and self.appealed_at is None

    @property
    def short_id(self) -> str:
        """Tells two files with the same name apart: the start of the file's SHA-256."""
        return self.job.video.sha256[:8]

    @property
    def standing_decision(self) -> "ReviewEvent | None":
        """The human decision the item's state rests on (after appeal, if any)."""
        if self.state not in DECIDED_STATES:
            return None
        return (
            self.events.filter(actor__isnull=False, to_state=self.state)
            .exclude(reason__in=[ReasonCode.APPEAL, ReasonCode.ASSIGNED])
            .order_by("-created_at", "-id")
            .first()
        )

    @property
    def statement_of_reasons(self) -> dict | None:
        """What the uploader is told about a decision: the decision, its reason, the part of
        the video concerned and how to appeal. Never names the moderator."""
        event = self.standing_decision
        if event is None:
            return None
        fake = self.state == ReviewState.CONFIRMED_FAKE
        if self.can_be_appealed:
            appeal = (
                "You can appeal this decision once, on this page: say why you think it is "
                "wrong; a different moderator decides the appeal."
            )
        elif self.appeal_decided_by_id:
            appeal = "This decision was made on appeal and is final."
        else:
            appeal = "This decision is in your favour: there is nothing to appeal."
        return {
            "decision": "manipulated" if fake else "authentic",
            "reason": event.reason,
            "reason_label": event.get_reason_display(),
            "part": {
                "person_index": event.person_index,
                "start_s": event.start_s,
                "end_s": event.end_s,
                "text": event.part,
            },
            "decided_at": event.created_at,
            "appealable": self.can_be_appealed,
            "how_to_appeal": appeal,
        }

    @property
    def public_status(self) -> str:
        """What the uploader is told: follows the state, never names a moderator."""
        if self.state == ReviewState.CONFIRMED_FAKE:
            final = " (after appeal, final)" if self.appeal_decided_by_id else ""
            return f"Reviewed by a moderator: manipulated{final}"
        if self.state == ReviewState.OVERTURNED_REAL:
            final = " (after appeal, final)" if self.appeal_decided_by_id else ""
            return f"Reviewed by a moderator: authentic{final}"
        if self.state == ReviewState.AUTO_CLEARED:
            return "No manipulation detected by the model; not reviewed by a person"
        if self.is_appeal:
            return "Your appeal is waiting for a moderator"
        return "Waiting for review by a moderator"

    @property
    def public_tone(self) -> str:
        return {
            ReviewState.CONFIRMED_FAKE: "fake",
            ReviewState.OVERTURNED_REAL: "real",
            ReviewState.AUTO_CLEARED: "real",
        }.get(self.state, "pending")


def clock(seconds: float) -> str:
    """00:12 (or 1:02:03 past an hour; tenths when not whole)."""
    whole = int(seconds)
    tenths = round((seconds - whole) * 10)
    if tenths == 10:
        whole, tenths = whole + 1, 0
    h, rest = divmod(whole, 3600)
    m, s = divmod(rest, 60)
    text = f"{h}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"
    return f"{text}.{tenths}" if tenths else text


class ReviewEvent(AppendOnlyModel):
    """One state change of an item. Written once, never edited or deleted."""

    # PROTECT: an item with history cannot be removed by a cascade from its video or job.
    item = models.ForeignKey(ReviewItem, on_delete=models.PROTECT, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Empty when the system (routing) made the change.",
    )
    created_at = models.DateTimeField(db_index=True)
    from_state = models.CharField(max_length=20, choices=ReviewState.choices, blank=True)
    to_state = models.CharField(max_length=20, choices=ReviewState.choices)
    reason = models.CharField(max_length=32, choices=ReasonCode.choices)
    note = models.TextField(blank=True)
    model_score = models.FloatField(
        null=True, blank=True, help_text="The model's probability at the time."
    )
    # The part of the video a decision is about: a person (PersonResult.index, 0-based) and/or
    # a time range in seconds. Both empty: the whole video.
    person_index = models.PositiveSmallIntegerField(null=True, blank=True)
    start_s = models.FloatField(null=True, blank=True)
    end_s = models.FloatField(null=True, blank=True)

    history_name = "Review history"

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(start_s__isnull=True, end_s__isnull=True)
                | Q(
                    start_s__isnull=False,
                    end_s__isnull=False,
                    start_s__gte=0,
                    end_s__gt=F("start_s"),
                ),
                name="review_event_range_ordered",
            ),
        ]

    @property
    def part(self) -> str:
        """The part of the video concerned, in words ("Person 2, 00:12–00:19")."""
        pieces = []
        if self.person_index is not None:
            pieces.append(f"Person {self.person_index + 1}")
        if self.start_s is not None:
            pieces.append(f"{clock(self.start_s)}–{clock(self.end_s)}")
        return ", ".join(pieces) or "the whole video"

    def __str__(self):
        return f"{self.from_state or '-'} -> {self.to_state} ({self.reason})"


def heatmap_upload_to(instance: "HeatmapOverlay", filename: str) -> str:
    return f"heatmaps/{instance.face.frame.job_id}/{filename}"


class HeatmapOverlay(models.Model):
    """A Grad-CAM heatmap drawn over one face crop (evidence for moderators only)."""

    face = models.ForeignKey(FaceResult, on_delete=models.CASCADE, related_name="heatmaps")
    model_version = models.ForeignKey(
        ModelVersion, on_delete=models.CASCADE, related_name="heatmaps"
    )
    image = models.ImageField(upload_to=heatmap_upload_to, max_length=255)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["face"]
        constraints = [
            models.UniqueConstraint(
                fields=["face", "model_version"], name="one_heatmap_per_face_and_model"
            )
        ]


class SecondReview(models.Model):
    """A sampled decision sent blind to a second moderator; the item's state does not change."""

    item = models.ForeignKey(ReviewItem, on_delete=models.PROTECT, related_name="second_reviews")
    first_event = models.OneToOneField(ReviewEvent, on_delete=models.PROTECT, related_name="+")
    first_moderator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    first_decision = models.CharField(max_length=8, choices=Decision.choices)
    first_reason = models.CharField(max_length=32, choices=ReasonCode.choices)
    created_at = models.DateTimeField()
    second_moderator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    second_decision = models.CharField(max_length=8, choices=Decision.choices, blank=True)
    second_reason = models.CharField(max_length=32, choices=ReasonCode.choices, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(second_moderator=F("first_moderator")),
                name="second_review_by_another_moderator",
            ),
        ]

    @property
    def agrees(self) -> bool | None:
        return None if not self.second_decision else self.second_decision == self.first_decision
