"""Steps of the scale-out test, each run as its own process, as on separate machines:
`python tests/scaleout/scenario.py STEP [ARG]` prints one JSON line. Settings come from the
environment (DATABASE_URL, REDIS_URL, DETECTION_QUEUE_NAME, DEEPFAKE_VAR_DIR)."""

import json
import os
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "deepfake_site.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.cache import cache  # noqa: E402
from django.db import connection  # noqa: E402
from rest_framework.test import APIClient  # noqa: E402

from accounts.models import Role, User  # noqa: E402
from detection.models import AnalysisJob  # noqa: E402


def _uploader():
    user, _ = User.objects.get_or_create(
        username="scaleout-uploader", defaults={"role": Role.UPLOADER}
    )
    return user


def _post(user, clip: Path) -> dict:
    client = APIClient(HTTP_HOST="127.0.0.1")
    client.force_authenticate(user)
    with open(clip, "rb") as handle:
        response = client.post("/api/v1/videos/", {"file": handle}, format="multipart")
    return {"status": response.status_code, **response.json()}


def upload(clip: str) -> dict:
    return _post(_uploader(), Path(clip))


def upload_twice_at_once(clip: str) -> dict:
    """The same file sent twice concurrently, each on its own database connection."""
    user, results = _uploader(), []
    barrier = threading.Barrier(2)

    def send():
        barrier.wait()
        try:
            results.append(_post(user, Path(clip)))
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {
        "statuses": sorted(r["status"] for r in results),
        "duplicates": sorted(bool(r.get("duplicate")) for r in results),
        "job_ids": sorted({r["job"]["id"] for r in results}),
        "jobs_for_user": AnalysisJob.objects.filter(video__uploaded_by=user).count(),
    }


def status(job_id: str) -> dict:
    job = AnalysisJob.objects.get(id=job_id)
    from django_q.models import OrmQ

    return {
        "status": job.status,
        "verdict": job.verdict,
        "error": job.error,
        "persons": job.persons.count(),
        "frames": job.frames.count(),
        "orm_queue_rows": OrmQ.objects.count(),
    }


def setup() -> dict:
    cache.set("scaleout-shared", "from another process", 300)
    return {
        "vendor": connection.vendor,
        "broker": "redis" if "redis" in settings.Q_CLUSTER else "orm",
        "cache": settings.CACHES["default"]["BACKEND"],
    }


def shared_cache() -> dict:
    return {"value": cache.get("scaleout-shared")}


if __name__ == "__main__":
    step, *args = sys.argv[1:]
    print(json.dumps(globals()[step](*args)), flush=True)
