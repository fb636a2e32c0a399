"""Scale-out mode: PostgreSQL holds the data, Redis carries the job queue and the shared cache.

Each step runs in its own process, as on separate machines: migrate, upload through the API, a
worker cluster started separately takes the job to a verdict over Redis (the database queue
stays empty), two identical uploads at once give one analysis, and the cache is shared. CI
machines run PostgreSQL and Redis on their standard ports; elsewhere the test is skipped when
they are not there (and fails in CI, where they must be).
"""

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from tests import media

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
PG = os.environ.get("SCALEOUT_TEST_PG", "postgres://postgres@127.0.0.1:5432")
REDIS = os.environ.get("SCALEOUT_TEST_REDIS", "redis://127.0.0.1:6379/15")


def _unavailable(reason):
    if os.environ.get("CI"):
        pytest.fail(f"scale-out services missing in CI: {reason}")
    pytest.skip(f"scale-out services not running here: {reason}")


@pytest.fixture
def scaleout(tmp_path):
    import psycopg
    import redis

    try:
        admin = psycopg.connect(f"{PG}/postgres", autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        _unavailable(f"PostgreSQL at {PG}: {exc}")
    try:
        queue = redis.from_url(REDIS, socket_connect_timeout=3)
        queue.ping()
    except redis.RedisError as exc:
        admin.close()
        _unavailable(f"Redis at {REDIS}: {exc}")
    name = f"deepfake_scaleout_{uuid.uuid4().hex[:10]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    env = {
        **os.environ,
        "DATABASE_URL": f"{PG}/{name}",
        "REDIS_URL": REDIS,
        "DETECTION_QUEUE_NAME": f"scaleout-{name}",
        "DEEPFAKE_VAR_DIR": str(tmp_path / "var"),
        "DJANGO_SETTINGS_MODULE": "deepfake_site.settings",
        "DJANGO_LOG_LEVEL": "WARNING",
    }
    env.pop("DETECTION_SYNC", None)
    try:
        yield env
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()
        for key in queue.scan_iter(f"*{name}*"):
            queue.delete(key)
        for key in queue.scan_iter("deepfake:*scaleout*"):
            queue.delete(key)


def _run(env, *args, timeout=300) -> str:
    done = subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def _step(env, *args) -> dict:
    return json.loads(_run(env, "tests/scaleout/scenario.py", *args).strip().splitlines()[-1])


def test_an_upload_is_analysed_by_a_separate_worker_over_redis(scaleout, tmp_path):
    _run(scaleout, "manage.py", "migrate", "--noinput")
    assert _step(scaleout, "setup") == {
        "vendor": "postgresql",
        "broker": "redis",
        "cache": "django.core.cache.backends.redis.RedisCache",
    }
    assert _step(scaleout, "shared_cache") == {"value": "from another process"}

    clip = media.face_clip(tmp_path / "face.mp4")
    uploaded = _step(scaleout, "upload", str(clip))
    assert uploaded["status"] == 202 and uploaded["job"]["status"] == "queued"
    job_id = uploaded["job"]["id"]

    worker = subprocess.Popen(
        [sys.executable, "manage.py", "qcluster"],
        cwd=ROOT,
        env=scaleout,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        deadline, state = time.monotonic() + 240, {}
        while time.monotonic() < deadline:
            state = _step(scaleout, "status", job_id)
            if state["status"] in ("done", "failed"):
                break
            time.sleep(2)
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
    assert state["status"] == "done", state
    assert state["verdict"] in ("fake", "real", "uncertain") and state["persons"] == 1
    assert state["frames"] >= 28
    assert state["orm_queue_rows"] == 0  # the job travelled through Redis, not the database

    twice = _step(
        scaleout, "upload_twice_at_once", str(media.face_clip(tmp_path / "b.mp4", n_frames=24))
    )
    assert twice["statuses"] == [200, 202]  # 202: queued; 200: the earlier analysis
    assert twice["duplicates"] == [False, True] and len(twice["job_ids"]) == 1
    assert twice["jobs_for_user"] == 2  # the first clip's job and one for the second clip
