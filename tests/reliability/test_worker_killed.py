"""Acceptance: real worker processes are killed with SIGKILL, and no job is lost or stored twice.

In both modes (SQLite with the database as broker; PostgreSQL with Redis), four uploads are
queued and a real `qcluster` started. The worker child is killed while it analyses a job (the
job stays `running`: case 2), then the whole cluster is killed while it holds messages (with
Redis, popped and gone: case 1). A new cluster is started and the reconciler run as its
schedule would. Every job must end `done` exactly once (one set of results, one review item),
or `failed` with its reason after its attempts; none may stay `queued` or `running`.
"""

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest

from tests import media

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
PG = os.environ.get("SCALEOUT_TEST_PG", "postgres://postgres@127.0.0.1:5432")
REDIS = os.environ.get("SCALEOUT_TEST_REDIS", "redis://127.0.0.1:6379/15")
FAST = {  # the reconciler's clocks, shortened so the test takes a minute, not an hour
    "DETECTION_HEARTBEAT_S": "0.5",
    "DETECTION_HEARTBEAT_STALE_S": "4",
    "DETECTION_QUEUE_GRACE_S": "3",
    "DETECTION_JOB_MAX_ATTEMPTS": "3",
    "DETECTION_WORKERS": "1",
    "DJANGO_LOG_LEVEL": "WARNING",
}


def _run(env, *args, timeout=300) -> str:
    done = subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def _step(env, *args):
    return json.loads(_run(env, "tests/reliability/scenario.py", *args).strip().splitlines()[-1])


class Cluster:
    """A `manage.py qcluster` in its own process group; knows its worker children's pids."""

    def __init__(self, env):
        env = {**env, "DJANGO_LOG_LEVEL": "INFO"}  # its workers log their pids
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "qcluster"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        self.workers: list[int] = []
        self.log: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.process.stderr:
            self.log.append(line)
            if match := re.search(r"ready for work at (\d+)", line):
                self.workers.append(int(match.group(1)))

    def kill_worker(self):
        """SIGKILL the live worker child (the one analysing)."""
        for pid in reversed(self.workers):
            try:
                os.kill(pid, signal.SIGKILL)
                return pid
            except ProcessLookupError:
                continue
        raise AssertionError("no live worker child: " + "".join(self.log[-20:]))

    def kill_all(self):
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self):
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                pass
        try:  # whatever of the group outlived its leader (a killed sentinel's children)
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        if self.process.poll() is None:
            self.process.wait(timeout=30)


def heavy_clip(path: Path, n_frames: int) -> Path:
    """A face in a large, noisy frame: decoding it takes a few seconds, long enough to kill the
    worker while it is at it."""
    import cv2
    import numpy as np

    face = cv2.resize(media.face_image(), (720, 720))
    rng = np.random.default_rng(n_frames)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 16.0, (1280, 720))
    for i in range(n_frames):
        frame = rng.integers(0, 255, (720, 1280, 3), dtype=np.uint8)
        x = 280 + int(20 * np.sin(i / 5))
        frame[:, x : x + 720] = face
        writer.write(frame)
    writer.release()
    return path


def _running_now(env, exclude=()) -> str | None:
    """The id of a running job, read straight from the database (no process start: fast)."""
    query = "SELECT id FROM detection_analysisjob WHERE status = 'running'"
    if env.get("DATABASE_URL"):
        import psycopg

        with psycopg.connect(env["DATABASE_URL"]) as conn:
            rows = conn.execute(query).fetchall()
    else:
        import sqlite3

        conn = sqlite3.connect(env["SQLITE_PATH"], timeout=30)
        try:
            rows = conn.execute(query).fetchall()
        finally:
            conn.close()
    ids = {str(row[0]).replace("-", "") for row in rows}
    ids -= {e.replace("-", "") for e in exclude}
    return next(iter(ids), None)


def _wait_running(env, exclude=(), timeout=120) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if job_id := _running_now(env, exclude):
            return str(uuid.UUID(job_id))
        time.sleep(0.02)
    raise AssertionError("no job started running")


def _wait_for_workers(cluster, count=1, timeout=60):
    deadline = time.monotonic() + timeout
    while len(cluster.workers) < count and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(cluster.workers) >= count, "".join(cluster.log[-30:])


def _kill_scenario(env, tmp_path):
    _run(env, "manage.py", "migrate", "--noinput")
    clips = [str(heavy_clip(tmp_path / f"clip{n}.mp4", n_frames=160 + 8 * n)) for n in range(4)]
    job_ids = _step(env, "upload", *clips)["job_ids"]

    cluster = Cluster(env)
    try:
        _wait_for_workers(cluster)
        killed = _wait_running(env)
        cluster.kill_worker()  # case 2: a worker child dies mid-analysis
        killed_mid_analysis = _step(env, "states")[killed]
        _wait_for_workers(cluster, count=2)  # the cluster's sentinel spawned a new one
        _wait_running(env, exclude=[killed])
        cluster.kill_all()  # case 1: the whole cluster dies holding messages
    finally:
        cluster.stop()
    assert killed_mid_analysis["status"] == "running", killed_mid_analysis
    after_kill = _step(env, "states")
    assert any(s["status"] in ("queued", "running") for s in after_kill.values())

    cluster = Cluster(env)
    try:
        deadline, final = time.monotonic() + 240, {}
        while time.monotonic() < deadline:
            _run(env, "manage.py", "reconcile_jobs")  # what the side cluster's schedule runs
            final = _step(env, "states")
            if all(s["status"] in ("done", "failed") for s in final.values()):
                break
            time.sleep(1)
    finally:
        cluster.stop()
    assert set(final) == set(job_ids)
    for job_id, state in final.items():
        assert state["status"] in ("done", "failed"), (job_id, state)
        if state["status"] == "done":  # exactly once: one set of results, one review item
            assert state["frames"] == state["frames_sampled"] == 32, state
            assert state["persons"] == 1 and state["review_items"] == 1, state
        else:
            assert state["error_code"] == "worker_lost" and state["attempts"] == 3, state
    assert final[killed]["attempts"] >= 2  # the killed job was tried again
    return final


def test_killed_workers_lose_no_job_with_sqlite_and_the_orm_broker(tmp_path):
    env = {
        **os.environ,
        **FAST,
        "SQLITE_PATH": str(tmp_path / "db.sqlite3"),
        "DEEPFAKE_VAR_DIR": str(tmp_path / "var"),
        "DETECTION_QUEUE_NAME": f"kill-{uuid.uuid4().hex[:8]}",
    }
    for key in ("DATABASE_URL", "REDIS_URL", "DETECTION_SYNC"):
        env.pop(key, None)
    final = _kill_scenario(env, tmp_path)
    assert [s["status"] for s in final.values()].count("done") >= 3


def _unavailable(reason):
    if os.environ.get("CI"):
        pytest.fail(f"scale-out services missing in CI: {reason}")
    pytest.skip(f"scale-out services not running here: {reason}")


def test_killed_workers_lose_no_job_with_postgresql_and_redis(tmp_path):
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
    name = f"deepfake_kill_{uuid.uuid4().hex[:10]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    env = {
        **os.environ,
        **FAST,
        "DATABASE_URL": f"{PG}/{name}",
        "REDIS_URL": REDIS,
        "DETECTION_QUEUE_NAME": f"kill-{name}",
        "DEEPFAKE_VAR_DIR": str(tmp_path / "var"),
    }
    env.pop("DETECTION_SYNC", None)
    try:
        final = _kill_scenario(env, tmp_path)
        assert [s["status"] for s in final.values()].count("done") >= 3
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()
        for key in queue.scan_iter(f"*{name}*"):
            queue.delete(key)
