"""django-q2 entry points: thin, ids in, the service does the work."""

from . import services


def heatmaps_compute(job_id: str) -> int:
    return services.heatmaps_compute(job_id=job_id)


def deadlines_enforce() -> int:
    """Run every minute (`manage.py moderation_deadlines --install-schedule`)."""
    return len(services.review_items_escalate_overdue())
