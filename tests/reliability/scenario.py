"""Steps of the worker-kill tests, each run as its own process (as the web server and the
operator's commands would be): `python tests/reliability/scenario.py STEP [ARG...]` prints one
JSON line. Settings come from the environment (SQLITE_PATH or DATABASE_URL, REDIS_URL, ...)."""

import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "deepfake_site.settings")

import django  # noqa: E402

django.setup()

from rest_framework.test import APIClient  # noqa: E402

from accounts.models import Role, User  # noqa: E402
from detection.models import AnalysisJob, JobStatus  # noqa: E402


def upload(*clips: str) -> dict:
    user, _ = User.objects.get_or_create(
        username="reliability-uploader", defaults={"role": Role.UPLOADER}
    )
    client = APIClient(HTTP_HOST="127.0.0.1")
    client.force_authenticate(user)
    ids = []
    for clip in clips:
        with open(clip, "rb") as handle:
            response = client.post("/api/v1/videos/", {"file": handle}, format="multipart")
        assert response.status_code == 202, response.content
        ids.append(response.json()["job"]["id"])
    return {"job_ids": ids}


def wait_running(timeout_s: str, *exclude: str) -> dict:
    """Return as soon as a job (not in `exclude`) is running: the moment to kill its worker."""
    deadline = time.monotonic() + float(timeout_s)
    while time.monotonic() < deadline:
        job = (
            AnalysisJob.objects.filter(status=JobStatus.RUNNING)
            .exclude(id__in=exclude)
            .values("id", "attempts")
            .first()
        )
        if job:
            return {"job_id": str(job["id"]), "attempts": job["attempts"]}
        time.sleep(0.02)
    return {"job_id": None}


def states() -> dict:
    from moderation.models import ReviewItem

    out = {}
    for job in AnalysisJob.objects.all():
        out[str(job.id)] = {
            "status": job.status,
            "attempts": job.attempts,
            "error_code": job.error_code,
            "error": job.error,
            "frames": job.frames.count(),
            "frames_sampled": job.frames_sampled,
            "persons": job.persons.count(),
            "review_items": ReviewItem.objects.filter(job=job).count(),
        }
    return out


def side_work() -> dict:
    """Queue slow side work (a heatmap and a webhook delivery) for the side cluster."""
    from moderation.services import heatmaps_enqueue
    from webhooks.services import webhook_enqueue

    heatmaps_enqueue(job_id="00000000-0000-4000-8000-000000000000")
    webhook_enqueue(event_id="00000000-0000-4000-8000-000000000001")
    return side_queue()


def side_queue() -> dict:
    from django.conf import settings
    from django_q.models import OrmQ

    return {
        "side": OrmQ.objects.filter(key=settings.DETECTION_SIDE_QUEUE_NAME).count(),
        "main": OrmQ.objects.filter(key=settings.DETECTION_QUEUE_NAME).count(),
    }


if __name__ == "__main__":
    step, *args = sys.argv[1:]
    print(json.dumps(globals()[step](*args)), flush=True)
