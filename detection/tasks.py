"""django-q2 entry points: thin, ids in, the service does the work."""
from . import services


def analyse_job(job_id: str) -> str | None:
    job = services.job_run(job_id=job_id)
    return job.status if job else None


def deliver_webhook(event_id: str) -> int | None:
    delivery = services.webhook_deliver(event_id=event_id)
    return delivery.status_code if delivery else None
