"""At-least-once jobs with exactly-once results.

A job's state lives on its row; django-q2 only carries its id. Two things can part them:
- a cluster killed while it held a message in memory (Redis: popped; ORM: locked until
  `retry`): the row stays `queued` with no message left to run it;
- a worker killed mid-analysis: the row stays `running` with nobody working on it.

`orchestration.reconcile.jobs_reconcile` (a django-q2 schedule on the side cluster, and
`manage.py reconcile_jobs`) puts both right with the functions here: a queued job with no pending broker message after a grace time is queued
again; a running job whose heartbeat stopped goes back to the queue until it has had
DETECTION_JOB_MAX_ATTEMPTS claims, then fails with the reason. A second message for the same
job is harmless: only one worker can claim a queued job, and a result is stored only by the
attempt that holds the claim (`job_hold`), so a retried job never stores twice.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from contextlib import contextmanager

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.db.models.functions import Coalesce
from django.utils import timezone

from .models import AnalysisJob, JobStatus, ShadowResult

logger = logging.getLogger(__name__)

# The worker's entry point is the orchestration's (analysis, then review and webhooks).
ANALYSE_TASK = "orchestration.tasks.analyse_job"
# A shadow version's score of a stored upload (detection.tasks.shadow_score).
SHADOW_TASK = "detection.tasks.shadow_score"


def analysis_message_send(*, job_id) -> None:
    """Send the job's message to the analysis cluster and note when (services.job_enqueue)."""
    from django_q.tasks import async_task

    AnalysisJob.objects.filter(id=job_id, status=JobStatus.QUEUED).update(
        enqueued_at=timezone.now()
    )
    async_task(
        ANALYSE_TASK,
        str(job_id),
        task_name=f"analyse-{job_id}",
        cluster=settings.DETECTION_QUEUE_NAME,
    )


def shadow_message_send(*, shadow_result_id) -> None:
    """Send a shadow score to the analysis cluster: it loads a model like an analysis does, so
    it runs where models run, never on the side cluster that heatmaps and webhooks share."""
    from django_q.tasks import async_task

    async_task(
        SHADOW_TASK,
        shadow_result_id,
        task_name=f"shadow-{shadow_result_id}",
        cluster=settings.DETECTION_QUEUE_NAME,
    )


def side_task(func: str, *args, task_name: str) -> None:
    """Queue work that must never hold up an analysis (heatmaps, webhooks) on the side cluster."""
    from django_q.tasks import async_task

    async_task(func, *args, task_name=task_name, cluster=settings.DETECTION_SIDE_QUEUE_NAME)


def job_claim(*, job_id) -> int | None:
    """Move a queued job to running; the attempt number, or None if another worker got it."""
    now = timezone.now()
    claimed = AnalysisJob.objects.filter(id=job_id, status=JobStatus.QUEUED).update(
        status=JobStatus.RUNNING, started_at=now, heartbeat_at=now, attempts=F("attempts") + 1
    )
    if claimed != 1:
        return None
    return AnalysisJob.objects.filter(id=job_id).values_list("attempts", flat=True).first()


def job_hold(*, job: AnalysisJob) -> bool:
    """Inside a transaction: True while this attempt still holds the job (it is running and no
    later attempt took it over). The UPDATE locks the row until commit, so a reconciler that
    wants to requeue it waits and then finds it finished."""
    return (
        AnalysisJob.objects.filter(
            id=job.id, status=JobStatus.RUNNING, attempts=job.attempts
        ).update(heartbeat_at=timezone.now())
        == 1
    )


@contextmanager
def job_heartbeat(*, job_id, attempt: int, every_s: float | None = None):
    """Stamp the job's heartbeat from a thread while the analysis runs."""
    every_s = settings.DETECTION_HEARTBEAT_S if every_s is None else every_s
    stop = threading.Event()

    def beat():
        try:
            while not stop.wait(every_s):
                try:
                    AnalysisJob.objects.filter(
                        id=job_id, status=JobStatus.RUNNING, attempts=attempt
                    ).update(heartbeat_at=timezone.now())
                except Exception:  # a busy database: the next beat will do
                    logger.warning("job %s: heartbeat not stored", job_id, exc_info=True)
        finally:
            connection.close()  # this thread's own connection

    thread = threading.Thread(target=beat, name=f"heartbeat-{job_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=5)


# --- The reconciler ---------------------------------------------------------------------------


def _pending_job_ids() -> set[str] | None:
    """Ids of the jobs whose analysis message waits in the broker (not taken by a cluster);
    None if the broker cannot be read (then nothing is requeued as lost)."""
    return _pending_ids(ANALYSE_TASK)


def _pending_ids(func: str) -> set[str] | None:
    """The first argument of every `func` message waiting in the analysis broker; None if the
    broker cannot be read."""
    from django_q.brokers import get_broker
    from django_q.signing import BadSignature, SignedPackage

    try:
        broker = get_broker(settings.DETECTION_QUEUE_NAME)
        if "redis" in settings.Q_CLUSTER:
            payloads = broker.connection.lrange(broker.list_key, 0, -1)
        else:
            from django_q.models import OrmQ

            payloads = list(
                OrmQ.objects.filter(key=broker.list_key, lock__lte=timezone.now()).values_list(
                    "payload", flat=True
                )
            )
    except Exception:
        logger.exception("reconciler: the broker could not be read")
        return None
    ids = set()
    for payload in payloads:
        try:
            task = SignedPackage.loads(payload)
        except (BadSignature, Exception):
            continue
        if task.get("func") == func and task.get("args"):
            ids.add(str(task["args"][0]))
    return ids


def jobs_requeue_lost(*, now: dt.datetime | None = None) -> int:
    """Queue again the queued jobs that have had no broker message for the grace time."""
    from . import services

    now = now or timezone.now()
    cutoff = now - dt.timedelta(seconds=settings.DETECTION_QUEUE_GRACE_S)
    waiting = list(
        AnalysisJob.objects.annotate(sent=Coalesce("enqueued_at", "created_at"))
        .filter(status=JobStatus.QUEUED, sent__lt=cutoff)
        .values_list("id", flat=True)[:1000]
    )
    if not waiting:
        return 0
    pending = _pending_job_ids()
    if pending is None:
        return 0
    requeued = 0
    for job_id in waiting:
        if str(job_id) not in pending:
            logger.warning("job %s: queued with no broker message; queued again", job_id)
            services.job_enqueue(job_id=job_id)
            requeued += 1
    return requeued


def job_requeue_if_lost(*, job: AnalysisJob) -> bool:
    """A duplicate upload found this queued job: queue it again if its message was lost."""
    from . import services

    sent = job.enqueued_at or job.created_at
    if job.status != JobStatus.QUEUED or sent >= timezone.now() - dt.timedelta(
        seconds=settings.DETECTION_QUEUE_GRACE_S
    ):
        return False
    pending = _pending_job_ids()
    if pending is None or str(job.id) in pending:
        return False
    transaction.on_commit(lambda: services.job_enqueue(job_id=job.id))
    return True


def jobs_requeue_stale(*, now: dt.datetime | None = None) -> tuple[int, list[AnalysisJob]]:
    """Running jobs whose heartbeat stopped: back to the queue, or failed after the last
    attempt. Returns (how many were queued again, the jobs failed now)."""
    from . import services

    now = now or timezone.now()
    cutoff = now - dt.timedelta(seconds=settings.DETECTION_HEARTBEAT_STALE_S)
    stale = list(
        AnalysisJob.objects.annotate(seen=Coalesce("heartbeat_at", "started_at"))
        .filter(status=JobStatus.RUNNING, seen__lt=cutoff)
        .values_list("id", "attempts")
    )
    requeued, failed = 0, []
    for job_id, attempts in stale:
        mine = AnalysisJob.objects.filter(id=job_id, status=JobStatus.RUNNING, attempts=attempts)
        if attempts >= settings.DETECTION_JOB_MAX_ATTEMPTS:
            if mine.update(
                status=JobStatus.FAILED,
                error_code="worker_lost",
                finished_at=now,
                error=f"The worker analysing this video stopped {attempts} time(s) "
                "(killed, out of memory or restarted); it was not retried "
                "again. Upload it again to retry.",
            ):
                failed.append(AnalysisJob.objects.get(id=job_id))
                logger.warning("job %s: failed after %d lost attempts", job_id, attempts)
            continue
        with transaction.atomic():
            if mine.update(status=JobStatus.QUEUED, heartbeat_at=None):
                requeued += 1
                logger.warning(
                    "job %s: its worker stopped (attempt %d); queued again", job_id, attempts
                )
                transaction.on_commit(lambda job_id=job_id: services.job_enqueue(job_id=job_id))
    return requeued, failed


def _pending_shadow_ids() -> set[str] | None:
    """Ids of the shadow results whose message waits in the broker; None if it cannot be read."""
    return _pending_ids(SHADOW_TASK)


def shadow_results_settle(*, now: dt.datetime | None = None) -> tuple[int, int]:
    """Shadow scores are evidence for a promotion, never retried blindly: a queued one whose
    broker message is gone is sent again; a running one whose worker died (past the job
    timeout) is failed with the reason, and the comparison counts it as a failure.
    Returns (sent again, failed)."""
    now = now or timezone.now()
    dead = ShadowResult.objects.filter(
        status=JobStatus.RUNNING,
        started_at__lt=now - dt.timedelta(seconds=settings.DETECTION_JOB_TIMEOUT_S + 60),
    ).update(
        status=JobStatus.FAILED,
        error_code="worker_lost",
        finished_at=now,
        error="The worker scoring this upload in shadow stopped (killed, out of memory or "
        "restarted) before it finished.",
    )
    waiting = list(
        ShadowResult.objects.filter(
            status=JobStatus.QUEUED,
            created_at__lt=now - dt.timedelta(seconds=settings.DETECTION_QUEUE_GRACE_S),
        ).values_list("pk", flat=True)[:1000]
    )
    sent = 0
    if waiting:
        pending = _pending_shadow_ids()
        for pk in waiting if pending is not None else []:
            if str(pk) not in pending:
                logger.warning("shadow result %s: queued with no broker message; sent again", pk)
                shadow_message_send(shadow_result_id=pk)
                sent += 1
    return sent, dead


def queue_stalled(*, now: dt.datetime | None = None) -> int:
    """How many jobs wait while no worker has claimed any job for a while (0: no stall).

    A django-q2 cluster can stay up yet take no work (a child killed while it held the
    cluster's internal queue lock): the jobs are not lost, but they wait until it is restarted.
    This says so loudly, so that a supervisor or an operator restarts it.
    """
    now = now or timezone.now()
    window = dt.timedelta(seconds=5 * settings.DETECTION_QUEUE_GRACE_S)
    waiting = AnalysisJob.objects.annotate(sent=Coalesce("enqueued_at", "created_at")).filter(
        status=JobStatus.QUEUED, sent__lt=now - window
    )
    count = waiting.count()
    if not count or AnalysisJob.objects.filter(started_at__gte=now - window).exists():
        return 0
    logger.error(
        "the analysis cluster looks stalled: %d jobs have waited over %d s and none was "
        "claimed meanwhile; restart it (manage.py qcluster)",
        count,
        window.total_seconds(),
    )
    return count
