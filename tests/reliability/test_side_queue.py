"""Case 12: heatmaps and webhook deliveries wait on a queue of their own; an analysis never
stands behind them. A real analysis cluster is started with side work queued first: it takes
the analysis and leaves the side work to the side cluster."""

import os
import signal
import subprocess
import sys
import time
import uuid

import pytest

from tests import media

from .test_worker_killed import ROOT, Cluster, _run, _step

pytestmark = pytest.mark.slow


def test_the_analysis_cluster_never_takes_side_work(tmp_path):
    env = {
        **os.environ,
        "SQLITE_PATH": str(tmp_path / "db.sqlite3"),
        "DEEPFAKE_VAR_DIR": str(tmp_path / "var"),
        "DETECTION_QUEUE_NAME": f"side-{uuid.uuid4().hex[:8]}",
        "DJANGO_LOG_LEVEL": "WARNING",
        # The analysis must add no side work of its own to the count below: whether a routed
        # item queues heatmaps depends on the model's verdict on the clip (the fused version
        # sends this clip to review), not on the queues under test.
        "MODERATION_HEATMAPS_ON_ROUTE": "false",
    }
    for key in ("DATABASE_URL", "REDIS_URL", "DETECTION_SYNC"):
        env.pop(key, None)
    _run(env, "manage.py", "migrate", "--noinput")
    assert _step(env, "side_work") == {"side": 2, "main": 0}  # queued before the upload
    job_id = _step(env, "upload", str(media.face_clip(tmp_path / "face.mp4")))["job_ids"][0]
    cluster = Cluster(env)
    try:
        deadline, state = time.monotonic() + 120, {}
        while time.monotonic() < deadline:
            state = _step(env, "states")[job_id]
            if state["status"] in ("done", "failed"):
                break
            time.sleep(1)
    finally:
        cluster.stop()
    assert state["status"] == "done", state
    assert _step(env, "side_queue") == {"side": 2, "main": 0}  # untouched: the side cluster's

    side = {**env, "Q_CLUSTER_NAME": f"{env['DETECTION_QUEUE_NAME']}-side"}
    process = subprocess.Popen(
        [sys.executable, "manage.py", "qcluster"],
        env=side,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and _step(env, "side_queue")["side"]:
            time.sleep(1)
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
    assert _step(env, "side_queue") == {"side": 0, "main": 0}  # the side cluster took it
