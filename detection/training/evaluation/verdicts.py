"""What users feel: each version's verdicts on labelled videos, per dataset and speed profile.

    python -m detection.training verdicts --spec detection/models/lite0_fusion_v1.json \
        --spec detection/models/lite0_sbi_v6.json --videos ../shared/data/videos \
        [--profile default --profile thorough] [--json var/verdicts.json]

Every labelled video is analysed as the worker analyses it (the version's served files, the
profile's frames and face search). Per version, profile and dataset (FF++, the generator set):
video AUC, the share of fakes called real (auto-cleared), of reals called fake, of videos left
uncertain, and how often each uncertain reason was given. The verdict is the pipeline's own, so
a fused version's reasons and stretch rules count; a video whose analysis fails counts as
uncertain.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

from detection.pipeline.errors import PipelineError
from detection.pipeline.types import (
    VERDICT_FAKE,
    VERDICT_NO_FACE,
    VERDICT_REAL,
    AnalysisConfig,
)

from ..data.branch_features import video_source
from ..data.labelled import VIDEO_SUFFIXES, labelled_files
from . import metrics
from .evaluate import load_analyser


def dataset_of(path: Path) -> str:
    return video_source(path)[0]


def video_rows(spec_path: Path, videos: Path, profile: str) -> list[dict]:
    analyser = load_analyser(spec_path, config=AnalysisConfig.for_profile(profile))
    rows = []
    for path, label, _ in labelled_files(videos, VIDEO_SUFFIXES):
        started = time.perf_counter()
        try:
            result = analyser.analyse(path)
            verdict, p = result.verdict, result.fake_probability
            reasons = [r.code for r in result.reasons]
        except PipelineError as exc:
            verdict, p, reasons = "error", None, [exc.code]
        rows.append(
            {
                "path": str(path),
                "dataset": dataset_of(path),
                "label": label,
                "verdict": verdict,
                "fake_probability": p,
                "reasons": reasons,
                "seconds": round(time.perf_counter() - started, 3),
            }
        )
    return rows


def summarise(rows: list[dict]) -> dict:
    """AUC (videos without a face score 0.5), and the verdicts' error and uncertain shares."""
    labels = [r["label"] for r in rows]
    scores = [r["fake_probability"] if r["fake_probability"] is not None else 0.5 for r in rows]
    fakes = [r for r in rows if r["label"] == 1]
    reals = [r for r in rows if r["label"] == 0]
    decided = (VERDICT_FAKE, VERDICT_REAL)
    return {
        "n": len(rows),
        "n_fake": len(fakes),
        "auc": metrics.auc(labels, scores),
        "fakes_called_real": sum(r["verdict"] == VERDICT_REAL for r in fakes) / max(1, len(fakes)),
        "reals_called_fake": sum(r["verdict"] == VERDICT_FAKE for r in reals) / max(1, len(reals)),
        "uncertain": sum(r["verdict"] not in decided for r in rows) / max(1, len(rows)),
        "no_face": sum(r["verdict"] == VERDICT_NO_FACE for r in rows),
        "reasons": dict(Counter(code for r in rows for code in r["reasons"])),
        "seconds_per_video": sum(r["seconds"] for r in rows) / max(1, len(rows)),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spec", type=Path, action="append", required=True)
    parser.add_argument("--videos", type=Path, required=True)
    parser.add_argument("--profile", action="append", choices=("default", "thorough"))
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    report = {}
    print(
        f"{'version':28s} {'profile':9s} {'dataset':11s} {'n':>4s} {'AUC':>6s} "
        f"{'fakes->real':>11s} {'reals->fake':>11s} {'uncertain':>9s}  reasons"
    )
    for spec in args.spec:
        for profile in args.profile or ["default"]:
            rows = video_rows(spec, args.videos, profile)
            by_dataset = {
                d: [r for r in rows if r["dataset"] == d]
                for d in sorted({r["dataset"] for r in rows})
            }
            for dataset, selected in by_dataset.items():
                s = summarise(selected)
                report.setdefault(spec.stem, {}).setdefault(profile, {})[dataset] = {
                    **s,
                    "videos": selected,
                }
                auc = f"{s['auc']:.3f}" if s["auc"] is not None else "–"
                print(
                    f"{spec.stem:28s} {profile:9s} {dataset:11s} {s['n']:4d} {auc:>6s} "
                    f"{s['fakes_called_real']:11.0%} {s['reals_called_fake']:11.0%} "
                    f"{s['uncertain']:9.0%}  {s['reasons']}",
                    flush=True,
                )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
