"""Evaluate a model version on labelled data: face crops (frame level) and videos (video level).

Any folder with `real/` and `fake/` somewhere in each path works; the other path components
(manipulation method, compression, source) become breakdowns. `evaluate_folder` writes the full
report (JSON plus ROC and reliability PNGs); `evaluate_frames` and `evaluate_videos` return the
figures the training run stores in the spec.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from pathlib import Path

import cv2
import numpy as np
from sklearn.metrics import roc_curve
from tqdm import tqdm

from detection.pipeline.aggregate import video_logit
from detection.pipeline.analyse import Analyser
from detection.pipeline.classify import make_classifier, preprocess
from detection.pipeline.errors import PipelineError
from detection.pipeline.faces import find_faces
from detection.pipeline.spec import ModelSpec, sigmoid
from detection.pipeline.types import VERDICT_NO_FACE, AnalysisConfig, SampledFrame
from detection.training.data.labelled import (
    IMAGE_SUFFIXES,
    VIDEO_SUFFIXES,
    labelled_face,
    labelled_files,
)
from detection.training.evaluation import metrics
from detection.training.report.model_card import write_card

RELIABILITY_BINS = 10
# Images are read and scored this many at a time: memory stays flat on large folders.
IMAGE_CHUNK = 256


def load_analyser(
    spec_path: str | Path, *, config: AnalysisConfig = AnalysisConfig(), prefer: str = "auto"
) -> Analyser:
    """The analyser the worker would build for this spec file (LiteRT when converted)."""
    spec_path = Path(spec_path)
    spec = ModelSpec.load(spec_path)
    return Analyser(
        spec, make_classifier(spec, spec.weights_path(spec_path), prefer=prefer), config=config
    )


def backend_name(analyser: Analyser) -> str:
    # A fused version's scorer wraps the classifier that serves its branches.
    served = getattr(analyser.classifier, "classifier", analyser.classifier)
    return "litert" if type(served).__name__.startswith("LiteRT") else "keras"


# --- figures -------------------------------------------------------------------------------


def reliability(labels, probabilities, bins: int = RELIABILITY_BINS) -> list[dict]:
    """Per equal-width bin: how many, mean predicted probability, observed share of fakes."""
    labels = np.asarray(labels, dtype=np.float64)
    probabilities = np.asarray(probabilities, dtype=np.float64)
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(probabilities, edges[1:-1]), 0, bins - 1)
    out = []
    for b in range(bins):
        mask = which == b
        out.append(
            {
                "low": round(float(edges[b]), 3),
                "high": round(float(edges[b + 1]), 3),
                "count": int(mask.sum()),
                "mean_probability": float(probabilities[mask].mean()) if mask.any() else None,
                "fake_rate": float(labels[mask].mean()) if mask.any() else None,
            }
        )
    return out


def roc(labels, scores) -> dict:
    labels = np.asarray(labels)
    if len(np.unique(labels)) < 2:
        return {}
    fpr, tpr, _ = roc_curve(labels, scores, drop_intermediate=True)
    return {
        "fpr": [round(float(v), 5) for v in fpr],
        "tpr": [round(float(v), 5) for v in tpr],
        "auc": metrics.auc(labels, scores),
    }


def _block(labels, probabilities, spec: ModelSpec, band: tuple[float, float] | None = None) -> dict:
    """Figures at the spec's single cut and its uncertain band (`band`: the video band for
    videos; default the face band)."""
    labels, probabilities = np.asarray(labels), np.asarray(probabilities, dtype=np.float64)
    out = metrics.summary(labels, probabilities, spec.fake_threshold)
    low, high = band or (spec.uncertain_low, spec.uncertain_high)
    if len(labels):
        # The uncertain band sends items to a person: how many, and how good the rest are.
        uncertain = (probabilities >= low) & (probabilities < high)
        decided = ~uncertain
        out["uncertain_rate"] = float(uncertain.mean())
        out["accuracy_decided"] = (
            float(np.mean((probabilities[decided] >= spec.fake_threshold) == labels[decided]))
            if decided.any()
            else None
        )
    return out


def subsets(rows: list[dict]) -> tuple[dict, dict]:
    """Rows per whole subfolder and per single path component (method, compression, source).

    A subset holding one class only (a fake method, a folder of reals) is compared against all
    items of the other class, so every breakdown has an AUC.
    """
    by_class = {0: [r for r in rows if r["label"] == 0], 1: [r for r in rows if r["label"] == 1]}

    def against_others(selected):
        classes = {r["label"] for r in selected}
        if len(classes) == 1:
            selected = selected + by_class[1 - classes.pop()]
        return selected

    groups, components = defaultdict(list), defaultdict(list)
    for r in rows:
        if r["group"].lower() not in {"real", "fake"}:  # a bare class folder: the overall figure
            groups[r["group"]].append(r)
        for part in r["group"].split("/"):
            if part.lower() not in {"real", "fake", "."}:
                components[part].append(r)
    return (
        {g: against_others(s) for g, s in sorted(groups.items())},
        {c: against_others(s) for c, s in sorted(components.items())},
    )


def _curves(component_rows: dict, labels, probabilities) -> dict:
    curves = {"all": roc(labels, probabilities)}
    for name, selected in component_rows.items():
        curves[name] = roc([r["label"] for r in selected], [row_probability(r) for r in selected])
    return curves


def row_probability(row: dict) -> float:
    # Unrated items (no face, decode error) sit at 0.5 for ranking: never rewarded.
    return row["fake_probability"] if row["fake_probability"] is not None else 0.5


# --- frame level ----------------------------------------------------------------------------


def pipeline_crop(analyser: Analyser, image: np.ndarray) -> np.ndarray | None:
    """The crop the pipeline would score for this image's labelled face (the face nearest the
    picture's centre, see `labelled_face`), found by the analyser's detector and cut with the
    model's margin (eyes levelled); None without a face.

    Scoring the labelled image as it is would measure a framing the pipeline never produces
    (and favour a model trained on that dataset's framing)."""
    frame = SampledFrame(index=0, timestamp_s=0.0, image=image)
    crops = find_faces([frame], analyser.detector, analyser.spec.face_margin)
    if not crops:
        return None
    return labelled_face(crops, image.shape[1], image.shape[0]).image


def labelled_crops(analyser: Analyser, files: list[tuple[Path, int, str]], cut_faces: bool = True):
    """(path, label, group, image, error) per labelled file, in order: the face the pipeline
    would score (`cut_faces`), or the image as it is; image None with the reason when the file
    cannot be read or (cutting) shows no face."""
    for path, label, group in files:
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if image is None or image.size == 0:
            yield path, label, group, None, "unreadable image"
            continue
        if cut_faces:
            image = pipeline_crop(analyser, image)
            if image is None:
                yield path, label, group, None, "no face"
                continue
        yield path, label, group, image, None


def score_images(
    analyser: Analyser, folder: str | Path, progress: bool = True, cut_faces: bool = True
) -> list[dict]:
    """Each labelled image scored by the classifier as the pipeline would score it
    (`cut_faces`), or as it is (`cut_faces=False`: the images are already the model's crops)."""
    spec = analyser.spec
    files = labelled_files(folder, IMAGE_SUFFIXES)
    rows = []
    bar = tqdm(total=len(files), desc="images", disable=not progress, unit="img")
    for start in range(0, len(files), IMAGE_CHUNK):
        chunk, images = [], []
        for path, label, group, image, error in labelled_crops(
            analyser, files[start : start + IMAGE_CHUNK], cut_faces
        ):
            if image is None:
                rows.append(
                    {
                        "path": str(path),
                        "label": label,
                        "group": group,
                        "raw": None,
                        "fake_probability": None,
                        "error": error,
                    }
                )
                continue
            chunk.append((path, label, group))
            images.append(image)
        if images:
            logits = analyser.classifier.logits_batch(
                preprocess(images, spec.input_size, spec.channels)
            )
            for (path, label, group), z in zip(chunk, logits):
                rows.append(
                    {
                        "path": str(path),
                        "label": label,
                        "group": group,
                        "raw": sigmoid(z),
                        "logit": float(z),
                        "fake_probability": spec.calibrate_logit(z),
                    }
                )
        bar.update(len(files[start : start + IMAGE_CHUNK]))
    bar.close()
    return rows


def summarise_frames(rows: list[dict], spec: ModelSpec) -> dict:
    scored = [r for r in rows if r["fake_probability"] is not None]
    if not scored:
        raise ValueError("No readable labelled images")
    labels = np.array([r["label"] for r in scored])
    probs = np.array([r["fake_probability"] for r in scored])

    def score(selected):
        return _block(
            [r["label"] for r in selected], [r["fake_probability"] for r in selected], spec
        )

    groups, components = subsets(scored)
    return {
        **_block(labels, probs, spec),
        "raw_auc": metrics.auc(labels, [r["logit"] for r in scored]),
        "unreadable": sum(1 for r in rows if r.get("error") == "unreadable image"),
        "no_face": sum(1 for r in rows if r.get("error") == "no face"),
        "by_group": {g: score(s) for g, s in groups.items()},
        "by_component": {c: score(s) for c, s in components.items()},
        "reliability": reliability(labels, probs),
        "roc": _curves(components, labels, probs),
    }


def evaluate_frames(
    analyser: Analyser, folder: str | Path, progress: bool = True, cut_faces: bool = True
) -> dict:
    """Frame-level figures on labelled images: AUC, accuracy, ECE, breakdowns, curves."""
    rows = score_images(analyser, folder, progress=progress, cut_faces=cut_faces)
    if not rows:
        raise ValueError(f"No labelled images (real/ or fake/) under {folder}")
    return summarise_frames(rows, analyser.spec)


# --- video level ----------------------------------------------------------------------------


def analyse_videos(analyser: Analyser, folder: str | Path, progress: bool = True) -> list[dict]:
    rows = []
    for path, label, group in tqdm(
        labelled_files(folder, VIDEO_SUFFIXES), desc="videos", disable=not progress, unit="video"
    ):
        started = time.perf_counter()
        try:
            result = analyser.analyse(path)
            rows.append(
                {
                    "path": str(path),
                    "label": label,
                    "group": group,
                    "verdict": result.verdict,
                    "fake_probability": result.fake_probability,
                    "logit": video_logit(result.persons),
                    "frames_with_face": result.frames_with_face,
                    "frames_sampled": result.frames_sampled,
                    "people": len(result.persons),
                    "seconds": round(time.perf_counter() - started, 3),
                }
            )
        except PipelineError as exc:
            rows.append(
                {
                    "path": str(path),
                    "label": label,
                    "group": group,
                    "verdict": "error",
                    "fake_probability": None,
                    "error": str(exc),
                }
            )
    return rows


def summarise_videos(rows: list[dict], spec: ModelSpec) -> dict:
    """Videos where no face was found (or that failed) cannot be ranked: they are counted, and
    scored 0.5 for the AUC and accuracy only, so a detector that finds no face is not rewarded.
    Calibration (ECE, reliability) uses only the videos that got a probability."""

    def score(selected):
        out = _block(
            [r["label"] for r in selected],
            [row_probability(r) for r in selected],
            spec,
            spec.video_band,
        )
        rated = [r for r in selected if r["fake_probability"] is not None]
        out["ece"] = (
            metrics.expected_calibration_error(
                [r["label"] for r in rated], [r["fake_probability"] for r in rated]
            )
            if rated
            else None
        )
        out["no_face"] = sum(1 for r in selected if r["verdict"] == VERDICT_NO_FACE)
        out["errors"] = sum(1 for r in selected if r["verdict"] == "error")
        return out

    groups, components = subsets(rows)
    rated = [r for r in rows if r["fake_probability"] is not None]
    return {
        "overall": score(rows),
        "by_group": {g: score(s) for g, s in groups.items()},
        "by_component": {c: score(s) for c, s in components.items()},
        "reliability": reliability(
            [r["label"] for r in rated], [r["fake_probability"] for r in rated]
        ),
        "roc": _curves(components, [r["label"] for r in rows], [row_probability(r) for r in rows]),
        "videos": rows,
    }


def evaluate_videos(analyser: Analyser, folder: str | Path, progress: bool = True) -> dict:
    """Video-level AUC over every labelled video under `folder`, with breakdowns and curves."""
    rows = analyse_videos(analyser, folder, progress=progress)
    if not rows:
        raise ValueError(f"No labelled videos (real/ or fake/) under {folder}")
    return summarise_videos(rows, analyser.spec)


def video_protocol(analyser: Analyser) -> str:
    looks = ""
    if analyser.config.full_look_every > 1 and hasattr(analyser.detector, "look_around"):
        looks = (
            f" (a full look at the whole frame at least every "
            f"{analyser.config.full_look_every} frames, looks around known faces between)"
        )
    return (
        f"{analyser.config.frames_to_sample} frames sampled evenly, faces by the "
        f"{analyser.detector.name} detector{looks}, faces tracked into people, each person "
        "scored over their frames, the video following its most suspicious person"
    )


# --- the whole report -----------------------------------------------------------------------


def evaluate_folder(
    analyser: Analyser,
    folder: str | Path,
    *,
    out_dir: str | Path | None = None,
    label: str | None = None,
    progress: bool = True,
    cut_faces: bool = True,
) -> dict:
    """Frame level if the folder has labelled images, video level if it has labelled videos.

    With `out_dir`, writes report.json and, per level, <level>_roc.png and
    <level>_reliability.png there.
    """
    from detection.training.evaluation import plots

    folder = Path(folder)
    has_images = bool(labelled_files(folder, IMAGE_SUFFIXES))
    has_videos = bool(labelled_files(folder, VIDEO_SUFFIXES))
    if not has_images and not has_videos:
        raise ValueError(f"No labelled images or videos (under real/ or fake/) in {folder}")
    spec = analyser.spec
    report: dict = {
        "data": label or str(folder),
        "model": {
            "name": spec.name,
            "version": spec.version,
            "backend": backend_name(analyser),
            "fake_threshold": spec.fake_threshold,
            "uncertain_band": [spec.uncertain_low, spec.uncertain_high],
            "video_uncertain_band": list(spec.video_band),
            "video_calibration": spec.has_video_calibration,
        },
    }
    if has_images:
        report["frames"] = evaluate_frames(analyser, folder, progress=progress, cut_faces=cut_faces)
    if has_videos:
        report["videos"] = {
            **evaluate_videos(analyser, folder, progress=progress),
            "protocol": video_protocol(analyser),
        }
    if out_dir is not None:
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        images = {}
        for level in ("frames", "videos"):
            block = report.get(level)
            if not block:
                continue
            overall = block.get("overall", block)
            title = f"{spec.name} v{spec.version}, {level[:-1]} level"
            images[f"{level}_roc"] = plots.save_roc(
                out_dir / f"{level}_roc.png", block["roc"], title
            ).name
            images[f"{level}_reliability"] = plots.save_reliability(
                out_dir / f"{level}_reliability.png",
                block["reliability"],
                overall.get("ece"),
                title,
            ).name
        report["images"] = images
        (out_dir / "report.json").write_text(json.dumps(report, indent=2, default=_jsonable))
    return report


def _jsonable(value):
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def spec_metrics(report: dict) -> dict:
    """The part of a report stored in the spec's metrics (no per-item rows, no curves)."""
    found = {}
    if "frames" in report:
        frames = {k: v for k, v in report["frames"].items() if k not in {"roc"}}
        found["frames"] = {"dir": report["data"], **frames}
    if "videos" in report:
        videos = report["videos"]
        found["videos"] = {
            "dir": report["data"],
            "overall": videos["overall"],
            "by_group": videos["by_group"],
            "by_component": videos["by_component"],
            "reliability": videos["reliability"],
            "protocol": videos["protocol"],
        }
    return found


def evaluate_into_spec(
    spec_path: Path,
    *,
    val_dir: Path | None,
    videos_dir: Path | None,
    progress: bool = True,
    cut_faces: bool = True,
) -> ModelSpec:
    """Evaluate a version on held-out crops and videos, record the figures in its spec and
    write its model card."""
    analyser = load_analyser(spec_path)
    spec = analyser.spec
    found = dict(spec.metrics)
    if val_dir:
        frames = evaluate_frames(analyser, val_dir, progress=progress, cut_faces=cut_faces)
        found["frames"] = {"dir": str(val_dir), **{k: v for k, v in frames.items() if k != "roc"}}
    if videos_dir:
        report = evaluate_videos(analyser, videos_dir, progress=progress)
        found["videos"] = {
            "dir": str(videos_dir),
            **{k: v for k, v in report.items() if k not in {"roc", "videos"}},
            "protocol": video_protocol(analyser),
        }
    spec = ModelSpec.from_dict({**spec.to_dict(), "metrics": found})
    spec.save(spec_path)
    write_card(spec, spec_path)
    return spec
