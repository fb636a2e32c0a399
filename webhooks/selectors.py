"""Reads for the webhook outbox."""

from detection.models import AnalysisJob


def webhook_events_for_job(job: AnalysisJob):
    """The job's events for its client's callback URL (not the moderators' own events)."""
    from .models import INTERNAL_WEBHOOK_TYPES

    return (
        job.webhook_events.exclude(type__in=INTERNAL_WEBHOOK_TYPES)
        .prefetch_related("deliveries")
        .order_by("created_at")
    )
