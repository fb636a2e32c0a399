#!/usr/bin/env python
"""Worker memory benchmark: the peak RSS of one worker process doing a worker's whole job.

    python bench/worker_memory.py [--clips 3] [--frames 40] [--shadow] [--json FILE]

In one fresh process with a temporary SQLite database and media folder (nothing of yours is
touched), it analyses `--clips` generated face clips through the same services the django-q2
worker calls (`job_run`), then computes each one's Grad-CAM heatmaps as the worker does for a
video in review (`heatmaps_compute`), and prints the process's peak RSS after start-up, after
each analysis and after each heatmap pass. The analysis serves the LiteRT model; heatmaps need
gradients, so the first heatmap pass loads TensorFlow and the Keras model once per worker.
With `--shadow`, a second version (the active one's weights with another band, derived as
`calibrate_from_decisions` would) is in shadow and scores each clip after its analysis, as the
worker does: the worker then holds two analysers (DETECTION_ANALYSERS_CACHED). Default JSON:
bench/results/worker_memory.json, or worker_memory_shadow.json with --shadow.
Target: under 1.5 GB. Exit status 1 above it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
TARGET_MB = 1536


def _peak_mb() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024  # Linux: kB


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clips", type=int, default=3)
    parser.add_argument("--frames", type=int, default=40, help="frames per generated clip")
    parser.add_argument(
        "--shadow", action="store_true", help="a second version in shadow scores each clip too"
    )
    parser.add_argument("--json", type=Path, default=None)
    a = parser.parse_args(argv)
    a.json = a.json or ROOT / "bench/results" / (
        "worker_memory_shadow.json" if a.shadow else "worker_memory.json"
    )

    work = Path(tempfile.mkdtemp(prefix="worker-memory-"))
    os.environ.update(
        {
            "DEEPFAKE_VAR_DIR": str(work / "var"),
            "DJANGO_LOG_LEVEL": "WARNING",
            "DJANGO_SETTINGS_MODULE": "deepfake_site.settings",
        }
    )
    for name in ("DATABASE_URL", "REDIS_URL", "DETECTION_SYNC"):
        os.environ.pop(name, None)
    import django

    django.setup()
    from django.core.files import File
    from django.core.management import call_command

    from accounts.models import User
    from detection import services, tasks
    from detection.models import ModelState, ShadowResult
    from detection.selectors import model_version_active
    from moderation.services import heatmaps_compute
    from orchestration.jobs import job_run
    from tests import media

    call_command("migrate", verbosity=0)
    user = User.objects.create(username="memory-bench")
    if a.shadow:
        active = model_version_active()
        low, high = active.video_band
        candidate = services.model_version_derive(
            parent=active,
            changes={"video_uncertain_low": low - 0.05, "video_uncertain_high": high + 0.05},
            notes="memory benchmark: a shadow version",
        )
        services.model_version_set_state(model_version=candidate, state=ModelState.SHADOW)
    rows = [{"step": "start-up (Django, migrated database)", "peak_mb": _peak_mb()}]
    for i in range(a.clips):
        clip = media.face_clip(work / f"clip{i}.mp4", n_frames=a.frames + i)
        with open(clip, "rb") as handle:
            job = services.video_upload(user=user, uploaded_file=File(handle, name=clip.name))
        job = job_run(job_id=job.id)
        rows.append(
            {"step": f"clip {i + 1}: analysis ({job.status}, {job.verdict})", "peak_mb": _peak_mb()}
        )
        for shadow in ShadowResult.objects.filter(job=job):
            tasks.shadow_score(shadow.pk)
            shadow.refresh_from_db()
            rows.append(
                {
                    "step": f"clip {i + 1}: shadow score ({shadow.status}, {shadow.verdict})",
                    "peak_mb": _peak_mb(),
                }
            )
        count = heatmaps_compute(job_id=job.id)
        rows.append({"step": f"clip {i + 1}: {count} heatmaps", "peak_mb": _peak_mb()})

    width = max(len(r["step"]) for r in rows)
    print(f"{'step':<{width}}  peak RSS MB")
    for r in rows:
        print(f"{r['step']:<{width}}  {r['peak_mb']:>11}")
    peak = max(r["peak_mb"] for r in rows)
    ok = peak < TARGET_MB
    print(f"worker peak RSS {peak} MB (target < {TARGET_MB} MB: {'OK' if ok else 'OVER'})")
    a.json.parent.mkdir(parents=True, exist_ok=True)
    a.json.write_text(
        json.dumps(
            {
                "rows": rows,
                "peak_mb": peak,
                "target_mb": TARGET_MB,
                "shadow": a.shadow,
                "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
            },
            indent=1,
        )
    )
    print(f"wrote {a.json}")
    shutil.rmtree(work, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
