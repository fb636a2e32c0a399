"""Writes for the webhook outbox: record an event, deliver it, retry with backoff.

An event is recorded in the caller's transaction and queued only after commit, so a receiver is
never told about something that was rolled back.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from detection.callback_urls import CallbackUrlRefused
from detection.models import AnalysisJob, JobStatus
from detection.reconcile import side_task

from . import transport
from .models import WebhookDelivery, WebhookEvent

logger = logging.getLogger(__name__)

DELIVER_TASK = "webhooks.tasks.deliver_webhook"


def webhook_payload(
    *, job: AnalysisJob, event_id, event_type: str, data: dict | None = None
) -> dict:
    """The event body: small and stable; the full result is one GET of `job.url` away."""
    from django.urls import reverse

    version = job.model_version
    return {
        "id": str(event_id),
        "type": event_type,
        "created_at": timezone.now().isoformat(),
        "job": {
            "id": str(job.id),
            "url": reverse("api:job-detail", args=[job.id]),
            "status": job.status,
            "verdict": job.verdict or None,
            "fake_probability": job.fake_probability,
            "error_code": job.error_code or None,
            "error": job.error or None,
            "client_reference": job.client_reference,
            "video_sha256": job.video.sha256,
            "model_version": f"{version.name} v{version.version}" if version else None,
            "finished_at": job.finished_at.isoformat() if job.finished_at else None,
        },
        **({"data": data} if data else {}),
    }


def webhook_event_create(
    *, job: AnalysisJob, event_type: str, data: dict | None = None
) -> WebhookEvent | None:
    """Record an event for the job's callback URL and queue its delivery (after commit).

    None when the job has no callback URL. Moderation calls this with
    `event_type=WebhookEvent.Type.JOB_MODERATED` and the decision in `data`.
    """
    if not job.callback_url:
        return None
    event = WebhookEvent(job=job, type=event_type, url=job.callback_url)
    event.payload = webhook_payload(job=job, event_id=event.id, event_type=event_type, data=data)
    event.next_attempt_at = timezone.now()
    event.save()
    transaction.on_commit(lambda: webhook_enqueue(event_id=event.id))
    return event


def webhook_job_finished(*, job: AnalysisJob) -> WebhookEvent | None:
    """The one "finished" event of a job (idempotent: a second call returns the first)."""
    try:
        existing = job.webhook_events.filter(type=WebhookEvent.Type.JOB_FINISHED).first()
        return existing or webhook_event_create(job=job, event_type=WebhookEvent.Type.JOB_FINISHED)
    except Exception:  # the analysis is stored; a webhook problem must not undo or hide it
        logger.exception("job %s: could not record its webhook event", job.id)
        return None


def webhook_job_moderated(
    *, job: AnalysisJob, state: str, outcome: str, decision: str
) -> WebhookEvent | None:
    """A moderator's final decision on the job (called by moderation.services, in its
    transaction: the event is delivered only if the decision commits)."""
    return webhook_event_create(
        job=job,
        event_type=WebhookEvent.Type.JOB_MODERATED,
        data={
            "moderation": {
                "state": state,
                "outcome": outcome,
                "decision": decision,
                "changes_model_verdict": outcome != job.verdict,
            }
        },
    )


def webhook_job_finished_recover(*, older_than_s: int = 60, limit: int = 100) -> int:
    """Record the "finished" event of jobs that ended without one.

    A job's result is committed first and its event recorded just after; a worker that stops in
    between (killed, machine lost) would leave the client's callback unsent for good. Run before
    each job, this finds such jobs (finished over `older_than_s` ago, so never one whose worker is
    about to record it) and records the event; delivery then retries as usual.
    """
    cutoff = timezone.now() - dt.timedelta(seconds=older_than_s)
    missing = (
        AnalysisJob.objects.filter(
            status__in=[JobStatus.DONE, JobStatus.FAILED], finished_at__lt=cutoff
        )
        .exclude(callback_url="")
        .exclude(webhook_events__type=WebhookEvent.Type.JOB_FINISHED)
        .order_by("finished_at")[:limit]
    )
    recorded = 0
    for job in missing:
        if webhook_job_finished(job=job) is not None:
            logger.warning("job %s: recorded its missing finished webhook event", job.id)
            recorded += 1
    return recorded


def webhook_enqueue(*, event_id, at: dt.datetime | None = None) -> None:
    from django_q.models import Schedule
    from django_q.tasks import schedule

    # On the side cluster: a slow receiver never holds up an analysis.
    if at is None:
        side_task(DELIVER_TASK, str(event_id), task_name=f"webhook-{event_id}")
    else:
        # A one-off schedule: the side cluster's scheduler queues it when `at` has passed.
        schedule(
            DELIVER_TASK,
            str(event_id),
            name=f"webhook-{event_id}-{at.timestamp():.0f}",
            schedule_type=Schedule.ONCE,
            next_run=at,
            cluster=settings.DETECTION_SIDE_QUEUE_NAME,
        )


def webhook_backoff_s(*, attempt: int) -> float:
    """Seconds to wait after failed attempt n (1-based): base, 2x base, 4x base, ..."""
    return settings.WEBHOOK_BACKOFF_S * 2 ** (attempt - 1)


def webhook_deliver(*, event_id) -> WebhookDelivery | None:
    """Make one delivery attempt of a pending event, record it, and schedule the next if needed.

    Returns the recorded attempt, or None when the event is not pending (delivered, given up,
    unknown) or another worker took this attempt.
    """
    event = WebhookEvent.objects.filter(id=event_id, state=WebhookEvent.State.PENDING).first()
    if event is None:
        return None
    attempt = event.attempts + 1
    # Claim this attempt with a conditional update, so two workers never send the same one.
    if not WebhookEvent.objects.filter(
        id=event.id, state=WebhookEvent.State.PENDING, attempts=event.attempts
    ).update(attempts=attempt):
        return None
    event.attempts = attempt
    body = transport.canonical_body(event.payload)
    started = timezone.now()
    permanent = False
    try:
        # The address is checked again at send time, on the socket the POST uses: the name
        # may resolve elsewhere than at upload, or between a check and the connection.
        result = transport.post(
            event.url,
            body,
            {
                transport.SIGNATURE_HEADER: transport.signature_header(
                    settings.WEBHOOK_SECRET, body
                ),
                transport.EVENT_ID_HEADER: str(event.id),
                transport.EVENT_TYPE_HEADER: event.type,
            },
            timeout_s=settings.WEBHOOK_TIMEOUT_S,
            allow_private=settings.WEBHOOK_ALLOW_PRIVATE_URLS,
            allowed_ports=settings.WEBHOOK_ALLOWED_PORTS,
        )
    except CallbackUrlRefused as exc:
        result = transport.PostResult(None, str(exc), "")
        permanent = True
    finished = timezone.now()
    with transaction.atomic():
        delivery = WebhookDelivery.objects.create(
            event=event,
            attempt=attempt,
            started_at=started,
            finished_at=finished,
            status_code=result.status_code,
            error=result.error[:2000],
            response_excerpt=result.response_excerpt,
        )
        fields = ["state", "next_attempt_at", "delivered_at"]
        if result.ok:
            event.state, event.next_attempt_at, event.delivered_at = (
                WebhookEvent.State.DELIVERED,
                None,
                finished,
            )
        elif permanent or attempt >= settings.WEBHOOK_MAX_ATTEMPTS:
            event.state, event.next_attempt_at = WebhookEvent.State.FAILED, None
            logger.warning(
                "webhook %s for job %s given up after %d attempts: %s",
                event.id,
                event.job_id,
                attempt,
                result.error,
            )
        else:
            event.next_attempt_at = finished + dt.timedelta(
                seconds=webhook_backoff_s(attempt=attempt)
            )
            at = event.next_attempt_at
            transaction.on_commit(lambda: webhook_enqueue(event_id=event.id, at=at))
        event.save(update_fields=fields)
    return delivery
