"""The webhook outbox: one event per thing to tell a job's callback URL, every attempt kept."""

import uuid

from django.db import models
from django.utils import timezone

from detection.models import AnalysisJob


class WebhookEvent(models.Model):
    """One event for a job's callback URL; its id is stable across delivery attempts."""

    class Type(models.TextChoices):
        JOB_FINISHED = "job.finished", "Job finished"
        JOB_MODERATED = "job.moderated", "Moderation decision changed the outcome"
        # Sent to the site's MODERATION_WEBHOOK_URL (moderators' tools), never to the client.
        REVIEW_FLAGGED = "review.flagged", "Review: new flagged video"
        REVIEW_APPEALED = "review.appealed", "Review: new appeal"
        REVIEW_DEADLINE_MISSED = "review.deadline_missed", "Review: deadline missed"

    class State(models.TextChoices):
        PENDING = "pending", "Pending"  # waiting for its next attempt
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"  # gave up after the last attempt or on a refused URL

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    job = models.ForeignKey(AnalysisJob, on_delete=models.CASCADE, related_name="webhook_events")
    type = models.CharField(max_length=32, choices=Type.choices)
    url = models.URLField(max_length=2000)
    payload = models.JSONField()
    state = models.CharField(
        max_length=16, choices=State.choices, default=State.PENDING, db_index=True
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "detection_webhookevent"  # the table from before webhooks had their own app
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.type} {self.id} ({self.state})"


# Events for the moderators' own endpoint: not part of a job's webhook log shown to its client.
INTERNAL_WEBHOOK_TYPES = (
    WebhookEvent.Type.REVIEW_FLAGGED,
    WebhookEvent.Type.REVIEW_APPEALED,
    WebhookEvent.Type.REVIEW_DEADLINE_MISSED,
)


class WebhookDelivery(models.Model):
    """One HTTP attempt of an event: every attempt is kept."""

    event = models.ForeignKey(WebhookEvent, on_delete=models.CASCADE, related_name="deliveries")
    attempt = models.PositiveSmallIntegerField()
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    response_excerpt = models.TextField(blank=True)

    class Meta:
        db_table = "detection_webhookdelivery"
        ordering = ["event", "attempt"]
        constraints = [
            models.UniqueConstraint(fields=["event", "attempt"], name="unique_webhook_attempt")
        ]

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300
