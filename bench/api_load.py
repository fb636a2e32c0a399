#!/usr/bin/env python
"""API load benchmark: concurrent uploads plus polling, on loopback only.

    python bench/api_load.py [--uploads 50] [--concurrency 50] [--timeout 900]
    python bench/api_load.py --url http://127.0.0.1:8000 --token KEY   # a server you started

Without --url it starts the site itself (a threaded WSGI server + one django-q2 worker
cluster) on a free 127.0.0.1 port with a temporary SQLite database and media folder, creates a
user and token, and stops everything at the end (`--server runserver` uses Django's development
server instead: its listen backlog is 10, so a burst of 50 connections gets some reset). It
generates `--uploads` distinct small face clips (from the test photo, tests/media.py), sends
them all at once through the upload endpoint, polls every
accepted job until it finishes, then checks:

- every upload was accepted (202) or cleanly refused (an error answer in the API's JSON shape),
- every accepted job finished (done or failed) before the timeout,
- none was lost or duplicated: the API lists exactly the accepted job ids, each once,
- (when it starts the site) every job's signed `job.finished` webhook reached a receiver on
  127.0.0.1 exactly once, although the receiver fails its first few deliveries (`--webhook-
  failures`), so the worker's retries are exercised too.

Prints uploads/s, p50/p95 latency of upload and status calls, and the time from the first
upload to the last verdict; writes JSON to bench/results/api_load.json. Exit status 1 if a
check fails. Requests go to loopback addresses only.
"""

from __future__ import annotations

import argparse
import http.client
import ipaddress
import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests import media  # noqa: E402
from tests.webhooks.receiver import Receiver  # noqa: E402
from webhooks import transport as webhooks  # noqa: E402

PY = sys.executable


# --- HTTP (stdlib only, one connection per call) ----------------------------------------------


class Api:
    def __init__(self, base_url: str, token: str, timeout_s: float = 120.0):
        parts = urlsplit(base_url)
        host = parts.hostname or ""
        try:
            loopback = all(
                ipaddress.ip_address(info[4][0]).is_loopback
                for info in socket.getaddrinfo(host, parts.port or 80)
            )
        except (socket.gaierror, ValueError):
            loopback = False
        if parts.scheme != "http" or not loopback:
            raise SystemExit(f"refusing {base_url!r}: this benchmark only targets http on loopback")
        self.host, self.port = host, parts.port or 80
        self.token, self.timeout_s = token, timeout_s

    def request(
        self, method: str, path: str, body: bytes | None = None, headers: dict | None = None
    ) -> tuple[int, dict, dict]:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout_s)
        try:
            conn.request(
                method,
                path,
                body=body,
                headers={
                    "Authorization": f"Token {self.token}",
                    "Accept": "application/json",
                    **(headers or {}),
                },
            )
            response = conn.getresponse()
            raw = response.read()
            try:
                data = json.loads(raw) if raw else {}
            except ValueError:
                data = {"_raw": raw[:200].decode("utf-8", "replace")}
            return response.status, dict(response.getheaders()), data
        finally:
            conn.close()

    def upload(self, path: Path, reference: str, callback_url: str = "") -> tuple[int, dict, dict]:
        boundary = uuid.uuid4().hex
        fields = {
            "client_reference": reference,
            **({"callback_url": callback_url} if callback_url else {}),
        }
        parts = [
            *(
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                f"{value}\r\n".encode()
                for name, value in fields.items()
            ),
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
                f'filename="{path.name}"\r\nContent-Type: video/mp4\r\n\r\n'
            ).encode(),
            path.read_bytes(),
            f"\r\n--{boundary}--\r\n".encode(),
        ]
        return self.request(
            "POST",
            "/api/v1/videos/",
            b"".join(parts),
            {"Content-Type": f"multipart/form-data; boundary={boundary}"},
        )


# --- The site, started for the benchmark ------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# The same threaded server as runserver, with a listen backlog for bursts of connections.
WSGI_SERVER = """
import os, sys
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "deepfake_site.settings")
from django.core.wsgi import get_wsgi_application

class Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    request_queue_size = 128

class Quiet(WSGIRequestHandler):
    def log_message(self, *args):
        pass

make_server("127.0.0.1", int(sys.argv[1]), get_wsgi_application(), server_class=Server,
            handler_class=Quiet).serve_forever()
"""


class Site:
    """A web server + qcluster on a temporary database; stopped on exit."""

    WEBHOOK_SECRET = "bench-webhook-secret"

    def __init__(self, workdir: Path, server: str = "wsgi"):
        self.workdir = workdir
        self.server = server
        self.port = free_port()
        self.env = {
            **os.environ,
            "DEEPFAKE_VAR_DIR": str(workdir),
            "SQLITE_PATH": str(workdir / "db.sqlite3"),
            "DEEPFAKE_MEDIA_ROOT": str(workdir / "media"),
            "DJANGO_SECRET_KEY": "bench-" + uuid.uuid4().hex + uuid.uuid4().hex,
            # The benchmark measures capacity, not the throttle.
            "API_THROTTLE_USER_RATE": "100000/min",
            "API_THROTTLE_UPLOAD_RATE": "100000/min",
            "DJANGO_LOG_LEVEL": "WARNING",
            # Webhooks go to the benchmark's own receiver on 127.0.0.1, retried quickly.
            "DEEPFAKE_WEBHOOK_SECRET": self.WEBHOOK_SECRET,
            "DEEPFAKE_WEBHOOK_ALLOW_PRIVATE_URLS": "true",
            "DEEPFAKE_WEBHOOK_ALLOWED_PORTS": "",  # the receiver's port is a random one
            "DETECTION_UPLOADS_PER_MINUTE": "0",  # no per-account upload rate either
            "DEEPFAKE_WEBHOOK_BACKOFF_S": "2",
        }
        self.processes: list[subprocess.Popen] = []
        self.logs: list = []

    def manage(self, *args: str) -> str:
        return subprocess.run(
            [PY, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout

    def start(self) -> tuple[str, str]:
        self.manage("migrate", "--noinput", "-v0")
        token = (
            self.manage(
                "shell",
                "-c",
                (
                    "from accounts.services import user_create, api_token_create\n"
                    "u = user_create(username='bench', password='bench-password-1234')\n"
                    "print(api_token_create(user=u).key)"
                ),
            )
            .strip()
            .splitlines()[-1]
        )
        web = (
            [PY, "manage.py", "runserver", f"127.0.0.1:{self.port}", "--noreload"]
            if self.server == "runserver"
            else [PY, "-c", WSGI_SERVER, str(self.port)]
        )
        side = {**self.env, "Q_CLUSTER_NAME": "deepfake-side"}  # webhooks run on the side one
        for name, command, env in (
            ("web", web, self.env),
            ("worker", [PY, "manage.py", "qcluster"], self.env),
            ("side", [PY, "manage.py", "qcluster"], side),
        ):
            log = open(self.workdir / f"{name}.log", "w")
            self.logs.append(log)
            self.processes.append(
                subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
            )
        base = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return base, token
            except OSError:
                time.sleep(0.3)
        raise SystemExit("the site did not start; see " + str(self.workdir / "web.log"))

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        for log in self.logs:
            log.close()


# --- Benchmark --------------------------------------------------------------------------------


def make_clips(folder: Path, n: int) -> list[Path]:
    """n distinct small clips (a face that drifts; a per-clip mark makes every file unique)."""
    base = media.face_image()
    clips = []
    for k in range(n):
        frames = []
        for i in range(24):
            shift = np.float32([[1, 0, 3 * np.sin((i + k) / 5)], [0, 1, 2 * np.cos(i / 7)]])
            frame = cv2.warpAffine(
                base, shift, (base.shape[1], base.shape[0]), borderMode=cv2.BORDER_REPLICATE
            )
            cv2.putText(frame, str(k), (4, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (255, 255, 255))
            frames.append(frame)
        clips.append(media.write_video(folder / f"clip_{k:03d}.mp4", frames, fps=12.0))
    return clips


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))], 4)


def run(
    api: Api,
    clips: list[Path],
    concurrency: int,
    timeout_s: float,
    poll_s: float,
    receiver: Receiver | None = None,
    webhook_secret: str = "",
) -> dict:
    lock = threading.Lock()
    upload_latency: list[float] = []
    status_latency: list[float] = []
    outcomes: list[dict] = []
    barrier = threading.Barrier(min(concurrency, len(clips)))

    def upload(index_clip):
        index, clip = index_clip
        try:
            barrier.wait(timeout=30)  # all clients start together
        except threading.BrokenBarrierError:
            pass
        started = time.perf_counter()
        try:
            status, _headers, body = api.upload(
                clip, f"bench-{index}", receiver.url if receiver else ""
            )
            error = None
        except OSError as exc:
            status, body, error = None, {}, f"{exc.__class__.__name__}: {exc}"
        elapsed = time.perf_counter() - started
        with lock:
            upload_latency.append(elapsed)
            outcomes.append({"index": index, "status": status, "body": body, "error": error})

    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        list(pool.map(upload, enumerate(clips)))
    upload_wall = time.perf_counter() - t0

    accepted = {
        o["body"]["job"]["id"]: o
        for o in outcomes
        if o["status"] == 202 and not o["body"].get("duplicate")
    }
    refused = [
        o
        for o in outcomes
        if o["status"] in (400, 413, 429, 503)
        and set(o["body"]) == {"code", "message", "field_errors"}
    ]
    # Anything else (a 5xx, a dropped connection, an unexpected duplicate) is a defect.
    broken = [
        o
        for o in outcomes
        if o not in refused and not (o["status"] == 202 and o["body"]["job"]["id"] in accepted)
    ]

    # Poll every accepted job until it finishes.
    pending = set(accepted)
    finished: dict[str, dict] = {}
    last_verdict_at = None
    deadline = time.perf_counter() + timeout_s

    def poll(job_id):
        started = time.perf_counter()
        status, _, body = api.request("GET", f"/api/v1/jobs/{job_id}/")
        elapsed = time.perf_counter() - started
        with lock:
            status_latency.append(elapsed)
        return job_id, status, body

    with ThreadPoolExecutor(max_workers=8) as pool:
        while pending and time.perf_counter() < deadline:
            for job_id, status, body in pool.map(poll, sorted(pending)):
                if status == 200 and body.get("status") in ("done", "failed"):
                    pending.discard(job_id)
                    finished[job_id] = body
                    last_verdict_at = time.perf_counter()
            if pending:
                time.sleep(poll_s)

    # None lost or duplicated: the server lists exactly the accepted ids, once each.
    listed: list[str] = []
    page = 1
    while True:
        status, _, body = api.request("GET", f"/api/v1/jobs/?page_size=100&page={page}")
        if status != 200:
            break
        listed += [item["id"] for item in body["results"]]
        if not body.get("next"):
            break
        page += 1

    webhook = None
    if receiver is not None:
        webhook = webhook_report(
            receiver, set(finished), webhook_secret, t0, deadline=time.perf_counter() + 180
        )

    verdicts: dict[str, int] = {}
    for body in finished.values():
        key = body["verdict"] or f"failed:{body['error_code']}"
        verdicts[key] = verdicts.get(key, 0) + 1
    checks = {
        "every_upload_accepted_or_cleanly_refused": not broken,
        "every_accepted_job_finished": not pending,
        "none_lost": set(listed) == set(accepted),
        "none_duplicated": len(listed) == len(set(listed)),
    }
    if webhook is not None:
        checks["every_webhook_delivered_once_and_signed"] = webhook["ok"]
    return {
        "uploads": len(clips),
        "concurrency": concurrency,
        "accepted": len(accepted),
        "refused": len(refused),
        "refused_codes": sorted({o["body"]["code"] for o in refused}),
        "broken": [{k: o[k] for k in ("index", "status", "error")} for o in broken][:10],
        "finished": len(finished),
        "unfinished": len(pending),
        "failed_jobs": sum(1 for b in finished.values() if b["status"] == "failed"),
        "verdicts": verdicts,
        "upload_phase_s": round(upload_wall, 3),
        "uploads_per_s": round(len(accepted) / upload_wall, 2) if upload_wall else None,
        "upload_latency_s": {
            "p50": percentile(upload_latency, 0.5),
            "p95": percentile(upload_latency, 0.95),
            "max": percentile(upload_latency, 1.0),
        },
        "status_calls": len(status_latency),
        "status_latency_s": {
            "p50": percentile(status_latency, 0.5),
            "p95": percentile(status_latency, 0.95),
            "max": percentile(status_latency, 1.0),
        },
        "end_to_end_s": round(last_verdict_at - t0, 2) if last_verdict_at else None,
        "webhooks": webhook,
        "checks": checks,
        "ok": all(checks.values()),
    }


def webhook_report(
    receiver: Receiver, job_ids: set[str], secret: str, t0: float, deadline: float
) -> dict:
    """Wait for one accepted (2xx) delivery per finished job; check ids and signatures."""

    def delivered() -> dict[str, list[dict]]:
        by_job: dict[str, list[dict]] = {}
        for request in list(receiver.requests):
            if request["status"] < 300:
                job_id = json.loads(request["body"])["job"]["id"]
                by_job.setdefault(job_id, []).append(request)
        return by_job

    while set(delivered()) < job_ids and time.perf_counter() < deadline:
        time.sleep(1)
    by_job = delivered()
    requests = list(receiver.requests)
    signed = all(
        webhooks.signature_verify(secret, r["headers"][webhooks.SIGNATURE_HEADER], r["body"])
        for r in requests
    )
    event_ids = {r["headers"][webhooks.EVENT_ID_HEADER] for r in requests}
    once = all(len(v) == 1 for v in by_job.values())
    wall0 = time.time() - (time.perf_counter() - t0)  # t0 on the wall clock
    return {
        "requests": len(requests),
        "failed_on_purpose": sum(1 for r in requests if r["status"] >= 300),
        "jobs_notified": len(set(by_job) & job_ids),
        "distinct_event_ids": len(event_ids),
        "all_signatures_valid": signed,
        "delivered_once_each": once,
        "last_webhook_s": round(max(r["received_at"] for r in requests) - wall0, 2)
        if requests
        else None,
        "ok": set(by_job) == job_ids and signed and once and len(event_ids) == len(job_ids),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a running site on loopback (default: start one)")
    parser.add_argument("--token", help="API token for --url")
    parser.add_argument("--uploads", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument(
        "--timeout", type=float, default=900.0, help="seconds to wait for every job to finish"
    )
    parser.add_argument("--poll", type=float, default=1.0, help="seconds between polling rounds")
    parser.add_argument(
        "--server",
        choices=["wsgi", "runserver"],
        default="wsgi",
        help="web server to start without --url",
    )
    parser.add_argument(
        "--webhook-failures",
        type=int,
        default=5,
        help="the receiver answers 500 to this many first deliveries",
    )
    parser.add_argument("--json", type=Path, default=ROOT / "bench" / "results" / "api_load.json")
    args = parser.parse_args()
    if args.url and not args.token:
        parser.error("--url needs --token")

    workdir = Path(tempfile.mkdtemp(prefix="api_load_"))
    site = None
    receiver = None
    try:
        (workdir / "clips").mkdir()
        clips = make_clips(workdir / "clips", args.uploads)
        if args.url:
            base, token = args.url, args.token
        else:
            site = Site(workdir, args.server)
            base, token = site.start()
            receiver = Receiver(statuses=[500] * args.webhook_failures).__enter__()
        api = Api(base, token)
        print(
            f"{args.uploads} uploads of {clips[0].stat().st_size // 1024} KB clips, "
            f"{args.concurrency} at once, against {base} ...",
            flush=True,
        )
        result = run(
            api, clips, args.concurrency, args.timeout, args.poll, receiver, Site.WEBHOOK_SECRET
        )
    finally:
        if receiver is not None:
            receiver.__exit__(None, None, None)
        if site is not None:
            site.stop()
        shutil.rmtree(workdir, ignore_errors=True)

    result["target"] = (
        f"started by the benchmark ({args.server} + 1 qcluster worker, SQLite)"
        if not args.url
        else args.url
    )
    result["machine"] = {
        "python": platform.python_version(),
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
    }
    print(
        f"accepted {result['accepted']}/{result['uploads']} (refused {result['refused']}, "
        f"broken {len(result['broken'])}), finished {result['finished']} "
        f"(failed {result['failed_jobs']}), verdicts {result['verdicts']}"
    )
    print(
        f"uploads/s {result['uploads_per_s']}  upload p50 {result['upload_latency_s']['p50']} s"
        f"  p95 {result['upload_latency_s']['p95']} s"
    )
    print(
        f"status calls {result['status_calls']}  p50 {result['status_latency_s']['p50']} s  "
        f"p95 {result['status_latency_s']['p95']} s"
    )
    print(f"first upload -> last verdict: {result['end_to_end_s']} s")
    if result["webhooks"]:
        w = result["webhooks"]
        print(
            f"webhooks: {w['jobs_notified']} jobs notified by {w['requests']} requests "
            f"({w['failed_on_purpose']} refused on purpose, retried), signatures valid "
            f"{w['all_signatures_valid']}, last at {w['last_webhook_s']} s"
        )
    print(
        "checks: "
        + ", ".join(f"{k}={'ok' if v else 'FAILED'}" for k, v in result["checks"].items())
    )
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2))
    print(f"wrote {args.json}")
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
