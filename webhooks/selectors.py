"""Reads for the webhook outbox."""

from detection.models import AnalysisJob


def webhook_events_for_job(job: AnalysisJob):
    return job.webhook_events.prefetch_related("deliveries").order_by("created_at")
