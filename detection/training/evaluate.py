"""Evaluate a model version on labelled crops (frame level) and labelled videos (video level)."""
from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import numpy as np
from tqdm import tqdm

from detection.pipeline.analyse import Analyser
from detection.pipeline.errors import PipelineError

from . import metrics
from .data import VIDEO_SUFFIXES, load_faces, labelled_files


def evaluate_frames(analyser: Analyser, folder: str | Path, progress: bool = True) -> dict:
    spec = analyser.spec
    faces = load_faces(folder, spec.input_size, spec.channels, progress=progress)
    model = analyser.classifier
    raw = np.concatenate([
        np.asarray(model._call(faces.images[i:i + 256])).reshape(-1)
        for i in range(0, len(faces.images), 256)
    ])
    probabilities = np.array([spec.calibrate(r) for r in raw])
    report = metrics.summary(faces.labels, probabilities, spec.fake_threshold)
    report["raw_auc"] = metrics.auc(faces.labels, raw)
    return report


def evaluate_videos(analyser: Analyser, folder: str | Path, progress: bool = True) -> dict:
    """Video-level AUC over every labelled video under `folder`, with per-subfolder breakdown.

    Videos where no face was found cannot be ranked; they are counted, and scored 0.5 for the
    AUC only (so a detector that finds no face is not rewarded for it).
    """
    rows = []
    for path, label, group in tqdm(labelled_files(folder, VIDEO_SUFFIXES), desc="videos",
                                   disable=not progress, unit="video"):
        try:
            result = analyser.analyse(path)
            rows.append({"path": str(path), "label": label, "group": group,
                         "verdict": result.verdict, "fake_probability": result.fake_probability,
                         "frames_with_face": result.frames_with_face,
                         "frames_sampled": result.frames_sampled})
        except PipelineError as exc:
            rows.append({"path": str(path), "label": label, "group": group, "verdict": "error",
                         "fake_probability": None, "error": str(exc)})
    if not rows:
        raise ValueError(f"No labelled videos (real/ or fake/) under {folder}")
    spec = analyser.spec

    def block(selected):
        labels = np.array([r["label"] for r in selected])
        probs = np.array([r["fake_probability"] if r["fake_probability"] is not None else 0.5
                          for r in selected])
        out = metrics.summary(labels, probs, spec.fake_threshold)
        out["no_face"] = sum(1 for r in selected if r["verdict"] == "no_face")
        out["errors"] = sum(1 for r in selected if r["verdict"] == "error")
        return out

    # Each fake method is compared against all real videos, so every breakdown has an AUC.
    reals = [r for r in rows if r["label"] == 0]
    by_group = defaultdict(list)
    for r in rows:
        by_group[r["group"]].append(r)
    breakdown = {}
    for group, selected in sorted(by_group.items()):
        subset = selected if selected[0]["label"] == 0 else selected + reals
        breakdown[group] = block(subset)
    return {"overall": block(rows), "by_group": breakdown, "videos": rows}
