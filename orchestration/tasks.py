"""django-q2 entry points: thin, ids in, the orchestration does the work."""

from . import jobs


def analyse_job(job_id: str) -> str | None:
    job = jobs.job_run(job_id=job_id)
    return job.status if job else None


def reconcile_jobs() -> dict:
    from . import reconcile

    return reconcile.jobs_reconcile()


def purge_failed_uploads() -> int:
    from .media import videos_failed_purge

    return videos_failed_purge()
