"""django-q2 entry points of detection: thin, ids in, one service does the work.

(An analysis's entry point is the orchestration's, `orchestration.tasks.analyse_job`.)
"""

from . import services


def shadow_score(shadow_result_id: int) -> str | None:
    row = services.shadow_result_compute(shadow_result_id=shadow_result_id)
    return row.status if row else None
