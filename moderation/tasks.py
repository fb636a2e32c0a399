"""django-q2 entry points: thin, ids in, the service does the work."""

from . import services


def heatmaps_compute(job_id: str) -> int:
    return services.heatmaps_compute(job_id=job_id)
