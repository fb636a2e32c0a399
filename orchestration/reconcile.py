"""The reconciler: no job lost, no result stored twice (see detection/reconcile.py).

Runs on the side cluster's schedule every DETECTION_RECONCILE_EVERY_MIN minutes, and as
`manage.py reconcile_jobs`; the worker also requeues stale jobs before each job it takes.
"""

from __future__ import annotations

from django.conf import settings

from detection.reconcile import (
    jobs_requeue_lost,
    jobs_requeue_stale,
    queue_stalled,
    shadow_results_settle,
)
from detection.services import jobs_fail_stale
from webhooks.services import webhook_job_finished, webhook_job_finished_recover

RECONCILE_TASK = "orchestration.tasks.reconcile_jobs"
RECONCILE_SCHEDULE_NAME = "detection-reconcile-jobs"
PURGE_TASK = "orchestration.tasks.purge_failed_uploads"
PURGE_SCHEDULE_NAME = "detection-purge-failed-uploads"


def stale_jobs_requeue() -> tuple[int, int]:
    """Running jobs whose heartbeat stopped go back to the queue; those out of attempts are
    failed and their clients told. Returns (queued again, failed)."""
    requeued, failed = jobs_requeue_stale()
    for job in failed:
        webhook_job_finished(job=job)
    return requeued, len(failed)


def jobs_reconcile() -> dict[str, int]:
    """One pass of the reconciler; counts of what it did."""
    timed_out = jobs_fail_stale()
    for job in timed_out:
        webhook_job_finished(job=job)
    requeued_stale, failed_stale = stale_jobs_requeue()
    requeued_lost = jobs_requeue_lost()
    events = webhook_job_finished_recover()
    shadows_sent, shadows_failed = shadow_results_settle()
    return {
        "timed_out": len(timed_out),
        "requeued_stale": requeued_stale,
        "failed_after_attempts": failed_stale,
        "requeued_lost": requeued_lost,
        "webhook_events_recovered": events,
        "stalled_jobs": queue_stalled(),
        "shadow_scores_sent_again": shadows_sent,
        "shadow_scores_lost": shadows_failed,
    }


def schedules_ensure() -> None:
    """The side cluster's schedules (idempotent): the reconciler, and the daily purge of
    failed uploads past their retention."""
    from django_q.models import Schedule

    Schedule.objects.update_or_create(
        name=PURGE_SCHEDULE_NAME,
        defaults={
            "func": PURGE_TASK,
            "schedule_type": Schedule.DAILY,
            "repeats": -1,
            "cluster": settings.DETECTION_SIDE_QUEUE_NAME,
        },
    )
    Schedule.objects.update_or_create(
        name=RECONCILE_SCHEDULE_NAME,
        defaults={
            "func": RECONCILE_TASK,
            "schedule_type": Schedule.MINUTES,
            "minutes": settings.DETECTION_RECONCILE_EVERY_MIN,
            "repeats": -1,
            "cluster": settings.DETECTION_SIDE_QUEUE_NAME,
        },
    )
