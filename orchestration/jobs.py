"""What the worker does with one queued analysis, step by step, across the apps.

detection analyses and stores, moderation routes the result to review, webhooks tells the
client. Detection knows nothing of review or webhooks: this module is the one place that calls
the steps in order.
"""

from __future__ import annotations

from detection.models import AnalysisJob
from detection.services import job_analyse, jobs_fail_stale
from moderation.services import review_item_route
from webhooks.services import webhook_job_finished, webhook_job_finished_recover

from .reconcile import stale_jobs_requeue


def job_run(*, job_id) -> AnalysisJob | None:
    """Analyse one job and take the steps after it; nothing is raised, every outcome is stored.

    None when the job was not claimed (missing, or no longer queued).
    """
    # 1. Jobs whose worker died: past the timeout, failed; with a stopped heartbeat, queued
    #    again (failed after their last attempt); their clients told.
    stale_jobs_fail()
    stale_jobs_requeue()
    # 2. Jobs that ended without their "finished" event get it (a worker stopped in between).
    webhook_job_finished_recover()
    # 3. Claim, analyse, store the result; its review item is created in the same transaction.
    job = job_analyse(job_id=job_id, in_result_transaction=review_item_route)
    # 4. Done or failed: tell the client's callback URL (queued after commit).
    if job is not None and job.is_finished:
        webhook_job_finished(job=job)
    return job


def stale_jobs_fail() -> int:
    """Fail the running jobs whose worker died and record their "finished" events."""
    failed = jobs_fail_stale()
    for job in failed:
        webhook_job_finished(job=job)
    return len(failed)
