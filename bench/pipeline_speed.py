#!/usr/bin/env python
"""Pipeline speed benchmark: decode-only pass vs full analysis, in one process and one run.

    python bench/pipeline_speed.py [VIDEO ...] [--frames 32] [--repeat 3] [--json OUT]

Without arguments it generates a 10 s 1080p clip of a face (from the public-domain test photo)
and measures that. Prints a table and writes JSON (default bench/results/pipeline_speed.json).
No Django: the pipeline is plain Python.
"""
from __future__ import annotations

import argparse
import json
import platform
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from detection.pipeline import Analyser, AnalysisConfig  # noqa: E402
from detection.pipeline.decode import sample_frames  # noqa: E402

DEFAULT_SPEC = ROOT / "detection" / "models" / "paper_cnn_v1.json"


def make_clip(path: Path, seconds: float = 10.0, fps: float = 30.0,
              size: tuple[int, int] = (1920, 1080)) -> Path:
    face = cv2.imread(str(ROOT / "tests" / "fixtures" / "astronaut.jpg"))
    width, height = size
    canvas = np.full((height, width, 3), 60, np.uint8)
    face = cv2.resize(face, (960, 960))  # a head-and-shoulders shot, as in an interview
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, size)
    for i in range(int(seconds * fps)):
        frame = canvas.copy()
        x = 480 + int(80 * np.sin(i / 20))
        frame[60:1020, x:x + 960] = face
        writer.write(frame)
    writer.release()
    return path


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("videos", nargs="*", type=Path)
    parser.add_argument("--frames", type=int, default=32)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--model", type=Path, default=DEFAULT_SPEC)
    parser.add_argument("--json", type=Path, default=ROOT / "bench" / "results" / "pipeline_speed.json")
    args = parser.parse_args()

    tmp = tempfile.TemporaryDirectory()
    videos = args.videos or [make_clip(Path(tmp.name) / "face_1080p_10s.mp4")]
    config = AnalysisConfig(frames_to_sample=args.frames)
    analyser = Analyser.from_spec_file(args.model, config=config)
    analyser.analyse(videos[0])  # warm-up: model tracing, caches

    rows = []
    for video in videos:
        decode_runs, full_runs, stages = [], [], []
        for _ in range(args.repeat):
            # Interleave the two measurements so machine noise hits both alike.
            started = time.perf_counter()
            info, frames = sample_frames(video, config)
            decode_runs.append(time.perf_counter() - started)
            started = time.perf_counter()
            result = analyser.analyse(video)
            full_runs.append(time.perf_counter() - started)
            stages.append(result.timings)
        decode_s, full_s = statistics.median(decode_runs), statistics.median(full_runs)
        rows.append({
            "video": str(video), "resolution": f"{info.width}x{info.height}",
            "duration_s": info.duration_s, "frames_in_video": info.frame_count,
            "frames_sampled": len(frames), "decode_only_s": round(decode_s, 4),
            "full_analysis_s": round(full_s, 4), "ratio_full_to_decode": round(full_s / decode_s, 3),
            "video_frames_per_s": round(info.frame_count / full_s, 1),
            "stages_s": {k: round(statistics.median(s[k] for s in stages), 4) for k in stages[0]},
            "faces_scored": result.faces_scored, "verdict": result.verdict,
        })
    report = {"machine": {"python": platform.python_version(), "cpu_count": _cpus(),
                          "platform": platform.platform()},
              "model": str(args.model), "repeat": args.repeat, "peak_rss_mb": round(peak_rss_mb(), 1),
              "results": rows}

    print(f"{'video':<28} {'res':>10} {'decode s':>9} {'full s':>8} {'ratio':>6} {'fps':>7} "
          f"{'decode':>7} {'faces':>7} {'model':>7} {'aggr':>7} {'crops':>6}")
    for r in rows:
        s = r["stages_s"]
        print(f"{Path(r['video']).name[:28]:<28} {r['resolution']:>10} {r['decode_only_s']:>9.3f} "
              f"{r['full_analysis_s']:>8.3f} {r['ratio_full_to_decode']:>6.2f} "
              f"{r['video_frames_per_s']:>7.1f} {s['decode']:>7.3f} {s['faces']:>7.3f} "
              f"{s['model']:>7.3f} {s['aggregate']:>7.3f} {r['faces_scored']:>6}")
    print(f"peak RSS: {report['peak_rss_mb']} MB")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2))
    print(f"wrote {args.json}")
    return 0


def _cpus() -> int:
    import os

    return len(os.sched_getaffinity(0))


if __name__ == "__main__":
    sys.exit(main())
