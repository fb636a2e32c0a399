#!/usr/bin/env python
"""Soak benchmark: uploads, polling and moderator decisions while processes are killed.

    python bench/soak.py --seconds 180 [--mode both|sqlite|pg] [--uploaders 2]

For each mode (SQLite with the database as broker; PostgreSQL with Redis, skipped with a note
when they are not running on 127.0.0.1) it starts the site on a free 127.0.0.1 port with a
temporary database and media folder: a threaded WSGI server, the analysis cluster and the side
cluster (heatmaps, webhooks, the reconciler's schedule). For `--seconds` it runs concurrent API
uploads (good clips, repeats of earlier ones, and bad files: not a video, empty, truncated),
polling of accepted jobs and a moderator claiming and deciding review items, while a chaos
thread SIGKILLs at random the worker process while it analyses, the whole analysis cluster,
the side cluster or the web server, and starts what it killed again. Then it stops the load, lets the site settle
(running the reconciler as its schedule does, bounded in time), and counts from the database
and the media folder:

- accepted: uploads answered 202 (a new job); duplicates answered: 200 (an earlier job);
- analysed once: accepted jobs done with exactly one set of results and one review item;
- failed with a reason: accepted jobs failed with an error code and message;
- lost: accepted jobs missing, still queued or running, or failed without a reason;
- duplicated: any job with results stored twice, two review items, two stored copies of one
  account's file, or two live analyses of one video;
- orphaned: media files without rows and rows without files (temporary files of killed uploads
  are counted apart: `manage.py media_check --delete` removes them, run at the end);
- watchdog restarts: the analysis cluster restarted because jobs waited and none finished for
  40 s (a django-q2 cluster wedged by a killed idle child; see docs/reliability-and-security.md).

Prints a table, writes bench/results/soak.json, and exits 1 unless lost = duplicated =
orphaned = 0 in every mode that ran. Loopback only; every process it starts is stopped.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
PY = sys.executable
PG = os.environ.get("SCALEOUT_TEST_PG", "postgres://postgres@127.0.0.1:5432")
REDIS = os.environ.get("SCALEOUT_TEST_REDIS", "redis://127.0.0.1:6379/15")
SETTLE_S = 180

WSGI_SERVER = """
import os, sys
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "deepfake_site.settings")
from django.core.wsgi import get_wsgi_application

class Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    request_queue_size = 64

class Quiet(WSGIRequestHandler):
    def log_message(self, *args):
        pass

make_server("127.0.0.1", int(sys.argv[1]), get_wsgi_application(), server_class=Server,
            handler_class=Quiet).serve_forever()
"""

FINAL_COUNTS = """
import json
from django.db.models import Count, Q
from orchestration.media import media_audit
from detection.models import AnalysisJob, JobStatus, Video
from moderation.models import ReviewItem
jobs = {}
for j in AnalysisJob.objects.all():
    jobs[str(j.id)] = {"status": j.status, "error_code": j.error_code, "error": bool(j.error),
                       "frames": j.frames.count(), "frames_sampled": j.frames_sampled,
                       "reviews": ReviewItem.objects.filter(job=j).count(),
                       "attempts": j.attempts}
copies = sum(r["n"] - 1 for r in Video.objects.values("uploaded_by", "sha256")
             .annotate(n=Count("id")).filter(n__gt=1))
live_twice = Video.objects.annotate(live=Count("jobs", filter=~Q(jobs__status=JobStatus.FAILED))
                                    ).filter(live__gt=1).count()
print(json.dumps({"jobs": jobs, "stored_copies_twice": copies, "videos_analysed_twice": live_twice,
                  "media": media_audit(grace_s=0).counts()}))
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def clips(folder: Path) -> dict[str, list[Path]]:
    from tests import media

    folder.mkdir(parents=True, exist_ok=True)
    good = [media.face_clip(folder / f"face{n}.mp4", n_frames=24 + 2 * n) for n in range(40)]
    # No face: routed to a moderator, so the moderator thread has items to decide.
    good += [media.no_face_clip(folder / f"noface{n}.mp4", n_frames=12 + n) for n in range(12)]
    bad = [
        media.not_a_video(folder / "document.mp4"),
        media.empty_file(folder / "empty.mp4"),
        media.truncated_copy(good[0], folder / "truncated.mp4"),
    ]
    return {"good": good, "bad": bad}


class Site:
    """The web server and both clusters on a temporary database; each can be killed."""

    def __init__(self, workdir: Path, env: dict[str, str]):
        self.workdir, self.port = workdir, free_port()
        queue = f"soak-{uuid.uuid4().hex[:8]}"
        self.env = {
            **os.environ,
            **env,
            "DEEPFAKE_VAR_DIR": str(workdir),
            "DEEPFAKE_MEDIA_ROOT": str(workdir / "media"),
            "DJANGO_SECRET_KEY": "soak-" + uuid.uuid4().hex + uuid.uuid4().hex,
            "DJANGO_LOG_LEVEL": "WARNING",
            "DETECTION_QUEUE_NAME": queue,
            "API_THROTTLE_USER_RATE": "100000/min",
            "API_THROTTLE_UPLOAD_RATE": "100000/min",
            "DETECTION_UPLOADS_PER_MINUTE": "0",
            # The reconciler's clocks, short enough for a soak of minutes.
            "DETECTION_HEARTBEAT_S": "0.5",
            "DETECTION_HEARTBEAT_STALE_S": "6",
            "DETECTION_QUEUE_GRACE_S": "6",
            "DETECTION_JOB_MAX_ATTEMPTS": "4",
        }
        self.env.pop("DETECTION_SYNC", None)
        side = {**self.env, "Q_CLUSTER_NAME": f"{queue}-side"}
        self.commands = {
            "web": ([PY, "-c", WSGI_SERVER, str(self.port)], self.env),
            "worker": ([PY, "manage.py", "qcluster"], self.env),
            "side": ([PY, "manage.py", "qcluster"], side),
        }
        self.processes: dict[str, subprocess.Popen] = {}
        self.base = f"http://127.0.0.1:{self.port}"

    def manage(self, *args: str) -> str:
        return subprocess.run(
            [PY, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            check=True,
            capture_output=True,
            text=True,
            timeout=300,
        ).stdout

    def start(self, name: str) -> None:
        command, env = self.commands[name]
        log = open(self.workdir / f"{name}.log", "a")
        self.processes[name] = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        log.close()

    def kill(self, name: str) -> None:
        try:
            os.killpg(self.processes[name].pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.processes[name].wait(timeout=30)

    def _cluster_children(self) -> dict[int, int]:
        """The analysis cluster's worker, monitor and pusher processes: pid -> CPU ticks."""
        leader = self.processes["worker"].pid
        children = {}
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            pid, parent = int(stat.parent.name), int(fields[1])
            if int(fields[2]) == leader and pid != leader and parent != leader:
                children[pid] = int(fields[11]) + int(fields[12])  # utime + stime
        return children

    def _query(self, sql: str) -> list:
        """Straight from the database (no process start: fast enough to time a kill)."""
        if self.env.get("DATABASE_URL"):
            import psycopg

            with psycopg.connect(self.env["DATABASE_URL"]) as conn:
                return conn.execute(sql).fetchall()
        import sqlite3

        conn = sqlite3.connect(self.env["SQLITE_PATH"], timeout=30)
        try:
            return conn.execute(sql).fetchall()
        finally:
            conn.close()

    def job_counts(self) -> tuple[int, int]:
        """(jobs queued or running, jobs finished)."""
        rows = self._query("SELECT status, COUNT(*) FROM detection_analysisjob GROUP BY status")
        counts = dict(rows)
        return (
            counts.get("queued", 0) + counts.get("running", 0),
            counts.get("done", 0) + counts.get("failed", 0),
        )

    def kill_a_busy_worker(self) -> bool:
        """SIGKILL the cluster's worker process while it analyses: as soon as the database shows
        a running job, the child with the most CPU time (the one holding the model) is killed;
        the sentinel starts a new one. Idle children are left alone on purpose: see
        `Load.watchdog`."""
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            if self._query("SELECT 1 FROM detection_analysisjob WHERE status = 'running'"):
                children = self._cluster_children()
                if not children:
                    return False
                try:
                    os.kill(max(children, key=children.get), signal.SIGKILL)
                except ProcessLookupError:
                    return False
                return True
            time.sleep(0.02)
        return False

    def ensure_running(self) -> None:
        for name, process in list(self.processes.items()):
            if process.poll() is not None:
                self.start(name)

    def wait_for_web(self, timeout_s: float = 60) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("the web server did not start: see " + str(self.workdir / "web.log"))

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                try:
                    os.killpg(process.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        for name, process in self.processes.items():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                pass
            self.kill(name)  # and whatever of its group outlived it (a cluster's children)


class Load:
    """The clients: uploaders, a poller and a moderator, each a thread with its own session."""

    def __init__(self, site: Site, tokens: dict[str, str], pool: dict[str, list[Path]]):
        self.site, self.tokens, self.pool = site, tokens, pool
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.accepted: dict[str, str] = {}  # job id -> clip
        self.counts = {
            "duplicates_answered": 0,
            "refused": 0,
            "server_errors": 0,
            "unanswered": 0,
            "polls": 0,
            "decisions": 0,
            "kills": 0,
        }
        self.kills: dict[str, int] = {}
        self.watchdog_restarts = 0

    def _session(self, who: str) -> requests.Session:
        session = requests.Session()
        session.headers["Authorization"] = f"Token {self.tokens[who]}"
        session.trust_env = False  # loopback, never a proxy
        return session

    def _count(self, key: str, n: int = 1) -> None:
        with self.lock:
            self.counts[key] += n

    def uploader(self, who: str) -> None:
        session, sent = self._session(who), []
        while not self.stop.is_set():
            roll = random.random()
            if roll < 0.2:
                clip = random.choice(self.pool["bad"])
            elif roll < 0.35 and sent:
                clip = random.choice(sent)  # the same file again: a duplicate
            else:
                clip = random.choice(self.pool["good"])
            try:
                with open(clip, "rb") as handle:
                    response = session.post(
                        f"{self.site.base}/api/v1/videos/",
                        files={"file": (clip.name, handle)},
                        timeout=60,
                    )
            except requests.RequestException:
                self._count("unanswered")  # killed mid-request: maybe stored, maybe not
            else:
                if response.status_code == 202:
                    with self.lock:
                        self.accepted[response.json()["job"]["id"]] = clip.name
                    sent.append(clip)
                elif response.status_code == 200:
                    self._count("duplicates_answered")
                elif response.status_code >= 500:
                    self._count("server_errors")
                else:
                    self._count("refused")
            self.stop.wait(random.uniform(0.2, 1.0))

    def poller(self) -> None:
        session = self._session("uploader0")
        while not self.stop.is_set():
            with self.lock:
                ids = list(self.accepted)
            if ids:
                try:
                    session.get(f"{self.site.base}/api/v1/jobs/{random.choice(ids)}/", timeout=30)
                    self._count("polls")
                except requests.RequestException:
                    pass
            self.stop.wait(0.3)

    def moderator(self) -> None:
        session = self._session("moderator")
        base = f"{self.site.base}/api/v1/moderation/items"
        while not self.stop.is_set():
            try:
                items = session.get(f"{base}/", timeout=30).json().get("results", [])
                if items:
                    item = random.choice(items)["id"]
                    if session.post(f"{base}/{item}/claim/", timeout=30).ok:
                        decided = session.post(
                            f"{base}/{item}/decide/",
                            json={
                                "decision": random.choice(["fake", "real"]),
                                "reason": "other",
                                "note": "soak",
                            },
                            timeout=30,
                        )
                        if decided.ok:
                            self._count("decisions")
            except (requests.RequestException, ValueError):
                pass
            self.stop.wait(1.0)

    def chaos(self) -> None:
        actions: list[str] = []
        while not self.stop.wait(random.uniform(3.0, 8.0)):
            if not actions:  # every kind of kill in each round, in a random order
                actions = ["worker_child", "worker_child", "worker", "web", "side"]
                random.shuffle(actions)
            action = actions.pop()
            if action == "worker_child":
                if not self.site.kill_a_busy_worker():
                    actions.append(action)  # nobody busy now: try again next time
                    continue
            else:
                self.site.kill(action)
                time.sleep(random.uniform(0.5, 2.0))
                self.site.start(action)
            with self.lock:
                self.kills[action] = self.kills.get(action, 0) + 1
                self.counts["kills"] += 1

    def watchdog(self, stop: threading.Event, stuck_s: float = 40.0) -> None:
        """Restart the analysis cluster when jobs wait and none has finished for `stuck_s`.

        django-q2 keeps its workers' queue in a multiprocessing queue: a child killed while it
        waits for work (holding that queue's lock) leaves the cluster up but taking no work.
        Jobs are not lost (the reconciler sends them again); they wait for a restart, which
        this does as an operator's supervisor would. Counted apart in the results."""
        last_finished, since = -1, time.monotonic()
        while not stop.wait(5.0):
            try:
                waiting, finished = self.site.job_counts()
            except Exception:
                continue
            if finished != last_finished or not waiting:
                last_finished, since = finished, time.monotonic()
            elif time.monotonic() - since > stuck_s:
                self.site.kill("worker")
                self.site.start("worker")
                with self.lock:
                    self.watchdog_restarts += 1
                since = time.monotonic()

    def run(self, seconds: float, uploaders: int) -> None:
        threads = [
            threading.Thread(target=self.uploader, args=(f"uploader{n}",)) for n in range(uploaders)
        ]
        threads += [
            threading.Thread(target=self.poller),
            threading.Thread(target=self.moderator),
            threading.Thread(target=self.chaos),
            threading.Thread(target=self.watchdog, args=(self.stop,)),
        ]
        for thread in threads:
            thread.start()
        time.sleep(seconds)
        self.stop.set()
        for thread in threads:
            thread.join(timeout=120)


def settle(site: Site, load: Load) -> dict:
    """Everything running again; the reconciler runs until no job is queued or running."""
    site.ensure_running()
    site.wait_for_web()
    stop = threading.Event()
    watchdog = threading.Thread(target=load.watchdog, args=(stop,))
    watchdog.start()
    deadline, state = time.monotonic() + SETTLE_S, {}
    try:
        while time.monotonic() < deadline:
            site.manage("reconcile_jobs")  # as the side cluster's schedule does, more often
            state = json.loads(site.manage("shell", "-c", FINAL_COUNTS).strip().splitlines()[-1])
            if all(j["status"] in ("done", "failed") for j in state["jobs"].values()):
                break
            time.sleep(3)
    finally:
        stop.set()
        watchdog.join()
    return state


def tally(load: Load, state: dict) -> dict:
    jobs = state["jobs"]
    accepted = load.accepted
    done_once = [
        i
        for i in accepted
        if jobs.get(i, {}).get("status") == "done"
        and jobs[i]["frames"] == jobs[i]["frames_sampled"]
        and jobs[i]["reviews"] == 1
    ]
    failed = [
        i
        for i in accepted
        if jobs.get(i, {}).get("status") == "failed" and jobs[i]["error_code"] and jobs[i]["error"]
    ]
    lost = [
        i
        for i in accepted
        if i not in jobs
        or jobs[i]["status"] in ("queued", "running")
        or (jobs[i]["status"] == "failed" and not (jobs[i]["error_code"] and jobs[i]["error"]))
    ]
    twice = [
        i
        for i, j in jobs.items()
        if j["status"] == "done" and (j["frames"] != j["frames_sampled"] or j["reviews"] != 1)
    ]
    media = state["media"]
    return {
        "uploads_accepted": len(accepted),
        "duplicates_answered": load.counts["duplicates_answered"],
        "refused": load.counts["refused"],
        "unanswered": load.counts["unanswered"],
        "server_errors": load.counts["server_errors"],
        "analysed_once": len(done_once),
        "failed_with_reason": len(failed),
        "lost": len(lost),
        "duplicated": len(twice) + state["stored_copies_twice"] + state["videos_analysed_twice"],
        "orphaned": (
            media["files_without_rows"]
            + media["videos_without_files"]
            + media["crops_without_files"]
            + media["heatmaps_without_files"]
        ),
        "temporary_files_of_killed_uploads": media["stale_temporary_files"],
        "media": media,
        "jobs_in_database": len(jobs),
        "retried_jobs": sum(1 for j in jobs.values() if j["attempts"] > 1),
        "polls": load.counts["polls"],
        "decisions": load.counts["decisions"],
        "kills": dict(load.kills),
        "watchdog_restarts": load.watchdog_restarts,
        "lost_ids": lost[:20],
        "duplicated_ids": twice[:20],
    }


def run_mode(mode: str, seconds: float, uploaders: int, pool) -> dict:
    workdir = Path(tempfile.mkdtemp(prefix=f"soak-{mode}-"))
    env, cleanup = {}, None
    if mode == "sqlite":
        env = {"SQLITE_PATH": str(workdir / "db.sqlite3")}
        for key in ("DATABASE_URL", "REDIS_URL"):
            os.environ.pop(key, None)
    else:
        import psycopg
        import redis

        try:
            admin = psycopg.connect(f"{PG}/postgres", autocommit=True, connect_timeout=3)
            redis.from_url(REDIS, socket_connect_timeout=3).ping()
        except Exception as exc:  # not running here: say so, count nothing
            return {"skipped": f"PostgreSQL or Redis not running on 127.0.0.1: {exc}"}
        name = f"deepfake_soak_{uuid.uuid4().hex[:10]}"
        admin.execute(f'CREATE DATABASE "{name}"')
        env = {"DATABASE_URL": f"{PG}/{name}", "REDIS_URL": REDIS}

        def cleanup():
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.close()

    site = Site(workdir, env)
    try:
        site.manage("migrate", "--noinput", "-v0")
        tokens = json.loads(
            site.manage(
                "shell",
                "-c",
                (
                    "import json\n"
                    "from accounts.services import user_create, api_token_create\n"
                    "out = {}\n"
                    f"for n in range({uploaders}):\n"
                    "    u = user_create(username=f'uploader{n}', password='soak-password-1234')\n"
                    "    out[u.username] = api_token_create(user=u).key\n"
                    "m = user_create(username='moderator', password='soak-password-1234', "
                    "role='moderator')\n"
                    "out['moderator'] = api_token_create(user=m).key\n"
                    "print(json.dumps(out))"
                ),
            )
            .strip()
            .splitlines()[-1]
        )
        for name in site.commands:
            site.start(name)
        site.wait_for_web()
        load = Load(site, tokens, pool)
        started = time.monotonic()
        load.run(seconds, uploaders)
        state = settle(site, load)
        result = tally(load, state)
        result["seconds_total"] = round(time.monotonic() - started, 1)
        site.stop()
        site.manage("media_check", "--delete", "--grace-seconds", "0")
        after = json.loads(site.manage("shell", "-c", FINAL_COUNTS).strip().splitlines()[-1])
        result["left_after_media_check"] = sum(after["media"].values())
        return result
    finally:
        site.stop()
        if cleanup:
            cleanup()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--seconds",
        type=float,
        default=180.0,
        help="how long the load and the kills last, per mode",
    )
    parser.add_argument("--mode", choices=["both", "sqlite", "pg"], default="both")
    parser.add_argument("--uploaders", type=int, default=2)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "soak.json"))
    args = parser.parse_args()
    random.seed(args.seed)
    pool = clips(Path(tempfile.mkdtemp(prefix="soak-clips-")))
    modes = ["sqlite", "pg"] if args.mode == "both" else [args.mode]
    results = {mode: run_mode(mode, args.seconds, args.uploaders, pool) for mode in modes}

    rows = [
        "uploads_accepted",
        "duplicates_answered",
        "refused",
        "unanswered",
        "server_errors",
        "analysed_once",
        "failed_with_reason",
        "lost",
        "duplicated",
        "orphaned",
        "temporary_files_of_killed_uploads",
        "left_after_media_check",
        "retried_jobs",
        "watchdog_restarts",
        "polls",
        "decisions",
        "kills",
        "seconds_total",
    ]
    print(f"{'':36}" + "".join(f"{m:>28}" for m in modes))
    for row in rows:
        cells = [
            results[m].get(row, results[m].get("skipped", "")[:26] if row == rows[0] else "")
            for m in modes
        ]
        print(f"{row:36}" + "".join(f"{str(c):>28}" for c in cells))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(
        json.dumps(
            {
                "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "seconds": args.seconds,
                "machine": f"{platform.node()} ({os.cpu_count()} cores)",
                "results": results,
            },
            indent=2,
        )
    )
    ran = [r for r in results.values() if "skipped" not in r]
    ok = bool(ran) and all(r["lost"] == r["duplicated"] == r["orphaned"] == 0 for r in ran)
    print(
        "OK: nothing lost, duplicated or orphaned"
        if ok
        else "FAILED: lost, duplicated or orphaned jobs or files (see above)"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
