"""Compare candidate weights on the same faces, in seconds each.

Choosing between training runs (the arms of an accelerator run, the epochs of a fine-tune,
weight averages) means scoring many `.keras` files on the same data. `evaluate_model` runs the
whole pipeline per version, minutes each; here the faces are cut once, by the serving
version's detector and margin exactly as the pipeline cuts them, and cached; each candidate is
then scored as that version serves (its mirror view and person pooling); a candidate is a
`.keras` file or a LiteRT conversion (float32 or int8) that outputs the logit:

- the **held-out faces** of the training recipe (the selection set: by-file split, or a
  listing such as `lite0_sbi_v2.held_out.json` for weights continued from v2), as made and
  once more as a low-resolution re-encoding leaves them (`reencoded`: halved, one H.264 frame
  at CRF 32, scaled back), a robustness check drawn from training data only;
- the **frame-level** validation faces (OpenForensics val) and the **video-level** labelled
  videos (FF++), reported beside it with 95% bootstrap intervals, never used to choose.

Plain Python, no Django:

    python -m detection.training compare --data ../shared/data --cache var/compare \\
        --held-out-keys detection/models/lite0_sbi_v2.held_out.json run/*/trained*.keras
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import pickle
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

# FF++'s breakdown, printed short where the labelled videos have it.
VIDEO_COMPONENTS = {
    "Deepfakes": "DF",
    "Face2Face": "F2F",
    "FaceSwap": "FS",
    "NeuralTextures": "NT",
    "ffpp_c23": "c23",
    "ffpp_c40": "c40",
}


@dataclass
class Faces:
    """What every candidate is scored on (crops already at the model's input size, BGR)."""

    held_x: np.ndarray | None = None  # float32 model input, as the recipe makes it
    held_y: np.ndarray | None = None
    held_reencoded_x: np.ndarray | None = None  # the same, through `reencoded`
    frames: list[tuple[str, int, str, np.ndarray]] = field(default_factory=list)
    videos: list[tuple] = field(default_factory=list)  # (path, label, group, info, frames, crops)


def reencoded(images: np.ndarray, crf: int = 32) -> np.ndarray:
    """Model inputs (RGB, 0-255) as a site's low-resolution re-encoding leaves them: halved,
    coded as one H.264 frame at `crf`, scaled back up. One fixed transform, no randomness."""
    from detection.training.data.sbi import h264_roundtrip

    out = np.empty_like(images)
    for i, image in enumerate(images):
        bgr = np.ascontiguousarray(np.clip(image, 0, 255).astype(np.uint8)[..., ::-1])
        h, w = bgr.shape[:2]
        small = cv2.resize(bgr, (w // 2, h // 2), interpolation=cv2.INTER_AREA)
        back = cv2.resize(h264_roundtrip(small, crf), (w, h), interpolation=cv2.INTER_LINEAR)
        out[i] = back[..., ::-1]
    return out


def shrink(crop: np.ndarray, size: int) -> np.ndarray:
    # The resize `preprocess` would make; it then leaves a crop of the input size as it is.
    interp = cv2.INTER_AREA if crop.shape[0] > size else cv2.INTER_LINEAR
    return cv2.resize(crop, (size, size), interpolation=interp)


def cut_frames(analyser, folder: Path, progress: bool = False) -> list[tuple]:
    """Each labelled picture's face (the one it is about), cut as the pipeline cuts it;
    pictures where no face is found are left out, as `evaluate_model` counts them apart."""
    from tqdm import tqdm

    from detection.training.data.labelled import IMAGE_SUFFIXES, labelled_files
    from detection.training.evaluation.evaluate import labelled_crops

    files = labelled_files(folder, IMAGE_SUFFIXES)
    size = analyser.spec.input_size
    return [
        (str(path), label, group, shrink(crop, size))
        for path, label, group, crop, _ in tqdm(
            labelled_crops(analyser, files),
            total=len(files),
            desc="pictures",
            disable=not progress,
            unit="img",
        )
        if crop is not None
    ]


def cut_videos(analyser, folder: Path, progress: bool = False) -> list[tuple]:
    """Each labelled video's sampled frames (indices and times only) and face crops."""
    from tqdm import tqdm

    from detection.pipeline.decode import sample_frames
    from detection.pipeline.errors import PipelineError
    from detection.pipeline.faces import find_faces
    from detection.pipeline.types import SampledFrame
    from detection.training.data.labelled import VIDEO_SUFFIXES, labelled_files

    rows = []
    size = analyser.spec.input_size
    for path, label, group in tqdm(
        labelled_files(folder, VIDEO_SUFFIXES), desc="videos", disable=not progress, unit="video"
    ):
        try:
            info, frames = sample_frames(path, analyser.config)
        except PipelineError:
            continue  # evaluate_model reports these; no candidate can score them
        crops = find_faces(
            frames, analyser.detector, analyser.spec.face_margin, analyser.config.full_look_every
        )
        light = [
            SampledFrame(
                index=f.index, timestamp_s=f.timestamp_s, image=np.zeros((1, 1, 3), np.uint8)
            )
            for f in frames
        ]
        crops = [dataclasses.replace(c, image=shrink(c.image, size)) for c in crops]
        rows.append((str(path), label, group, info, light, crops))
    return rows


def _cached(path: Path | None, make):
    if path is not None and path.is_file():
        with open(path, "rb") as fh:
            return pickle.load(fh)
    value = make()
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as fh:
            pickle.dump(value, fh, protocol=pickle.HIGHEST_PROTOCOL)
    return value


def candidate_classifier(path: Path, spec):
    """A candidate served as `spec` serves (mirror view): a `.keras` model, or a `.tflite`
    file that outputs the logit, as `convert_model` and `quantize` write them (an int8 file is
    scored as it is, before any calibration of its own)."""
    import dataclasses

    from detection.pipeline.classify import KerasFaceClassifier, LiteRTFaceClassifier

    if Path(path).suffix == ".tflite":
        return LiteRTFaceClassifier(dataclasses.replace(spec, serving={"output": "logit"}), path)
    import keras

    return KerasFaceClassifier.from_model(spec, keras.models.load_model(path, compile=False))


def score(classifier, spec, faces: Faces) -> tuple[dict, dict]:
    """One candidate's figures: held-out AUC (the selection criterion), frame-level AUC,
    video-level AUC and its breakdown, each AUC with its 95% bootstrap interval; and, apart,
    each set's labels and scores (for paired comparisons, never reported)."""
    from detection.pipeline.analyse import Analyser, score_faces
    from detection.training.evaluation import metrics
    from detection.training.evaluation.evaluate import row_probability, summarise_videos

    out: dict = {}
    raw: dict = {}
    if faces.held_x is not None and len(faces.held_x):
        z = classifier.logits_batch(faces.held_x)
        out["held_out"] = metrics.auc(faces.held_y, z)
        out["held_out_ci95"] = metrics.auc_interval(faces.held_y, z)
        raw["held_out"] = (faces.held_y, z)
    if faces.held_reencoded_x is not None and len(faces.held_reencoded_x):
        z = classifier.logits_batch(faces.held_reencoded_x)
        out["held_out_reencoded"] = metrics.auc(faces.held_y, z)
        raw["held_out_reencoded"] = (faces.held_y, z)
    if faces.frames:
        labels = [r[1] for r in faces.frames]
        z = classifier.logits([r[3] for r in faces.frames])
        out["frames"] = metrics.auc(labels, z)
        out["frames_ci95"] = metrics.auc_interval(labels, z)
        raw["frames"] = (labels, z)
    if faces.videos:
        analyser = Analyser(spec, classifier)
        rows = []
        for path, label, group, info, frames, crops in faces.videos:
            result = score_faces(info, frames, crops, analyser, {})
            rows.append(
                {
                    "path": path,
                    "label": label,
                    "group": group,
                    "verdict": result.verdict,
                    "fake_probability": result.fake_probability,
                }
            )
        summary = summarise_videos(rows, spec)
        out["videos"] = summary["overall"]["auc"]
        out["videos_ci95"] = summary["overall"]["auc_ci95"]
        out["videos_by_component"] = {k: v["auc"] for k, v in summary["by_component"].items()}
        raw["videos"] = ([r["label"] for r in rows], [row_probability(r) for r in rows])
    return out, raw


SETS = ("held_out", "held_out_reencoded", "frames", "videos")


def against(raw: dict, reference: dict) -> dict:
    """Each set's AUC difference from the reference candidate's, with its paired bootstrap
    interval: on 67 videos two candidates' own intervals overlap by far, but most of their
    errors are shared, so the paired interval says whether one is really ahead."""
    from detection.training.evaluation import metrics

    out = {}
    for key in SETS:
        mine, theirs = raw.get(key), reference.get(key)
        if mine is not None and theirs is not None:
            out[key] = metrics.auc_difference(mine[0], mine[1], theirs[1])
    return out


def _against_row(name: str, deltas: dict) -> str:
    parts = [f"{'  vs ' + name:<40}"]
    for key in SETS:
        d = deltas.get(key)
        if d is not None:
            lo, hi = d["ci95"]
            parts.append(f"{key} {d['difference']:+.4f} ({lo:+.3f}..{hi:+.3f})")
    return "  ".join(parts)


def _row(name: str, figures: dict) -> str:
    def f(key):
        value = figures.get(key)
        return "   n/a" if value is None else f"{value:.4f}"

    parts = [
        f"{name:<40}",
        f"held-out {f('held_out')}",
        f"re-encoded {f('held_out_reencoded')}",
        f"frames {f('frames')}",
        f"videos {f('videos')}",
    ]
    by = figures.get("videos_by_component") or {}
    parts += [
        f"{short} {by[k]:.3f}" for k, short in VIDEO_COMPONENTS.items() if by.get(k) is not None
    ]
    return "  ".join(parts)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "candidates",
        nargs="+",
        type=Path,
        help=".keras weights, or .tflite files that output the logit (float32 "
        "or int8 conversions), to compare",
    )
    parser.add_argument(
        "--spec",
        type=Path,
        # The site's default model, read the way settings.py reads it.
        default=Path(
            os.environ.get(
                "DETECTION_DEFAULT_MODEL_SPEC",
                Path(__file__).resolve().parents[2] / "models" / "lite0_sbi_v6.json",
            )
        ),
        help="the version whose serving (detector, margin, mirror view, "
        "pooling) the candidates are scored with (default: the shipped "
        "one, DETECTION_DEFAULT_MODEL_SPEC)",
    )
    parser.add_argument("--data", type=Path, help="data root (faces/..., videos/)")
    parser.add_argument("--train-dir", type=Path, help="default DATA/faces/openforensics/train")
    parser.add_argument(
        "--real-pools",
        type=Path,
        nargs="*",
        help="default DATA/faces/utkface_real and DATA/faces/rmfd_real",
    )
    parser.add_argument("--val-dir", type=Path, help="default DATA/faces/openforensics/val")
    parser.add_argument("--videos-dir", type=Path, help="default DATA/videos")
    parser.add_argument(
        "--held-out-keys",
        type=Path,
        help="JSON listing the held-out faces (else the by-file split)",
    )
    parser.add_argument(
        "--input-size",
        type=int,
        help="score candidates trained at another input size than the spec's "
        "(the faces are cut as the spec cuts them, then sized to this)",
    )
    parser.add_argument("--cache", type=Path, help="keep the cut faces here between runs")
    parser.add_argument("--json", type=Path, help="append one JSON line per candidate")
    parser.add_argument(
        "--reference",
        type=Path,
        help="also give each candidate's AUC difference from this one's (a "
        ".keras or .tflite, e.g. the active version's weights) with a "
        "paired bootstrap interval",
    )
    a = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

    from detection.training.data.labelled import real_pools_under
    from detection.training.evaluation.evaluate import load_analyser
    from detection.training.recipes.train import BlendTrainConfig, prepare_blend_data

    data = a.data
    train_dir = a.train_dir or (data / "faces/openforensics/train" if data else None)
    val_dir = a.val_dir or (data / "faces/openforensics/val" if data else None)
    videos_dir = a.videos_dir or (data / "videos" if data else None)
    pools = a.real_pools if a.real_pools is not None else (real_pools_under(data) if data else [])
    analyser = load_analyser(a.spec)
    resized = bool(a.input_size) and a.input_size != analyser.spec.input_size
    if resized:
        # Conv weights do not depend on the input size: the serving model is only used to
        # cut faces here, and every crop is cut at this size instead.
        analyser.spec = dataclasses.replace(analyser.spec, input_size=a.input_size)
    spec, cache = analyser.spec, a.cache

    def faces_of(folder: Path | None, name: str, make):
        """A set's faces: from the cache when an earlier run cut them, else cut from its
        folder (and cached); None when neither is there."""
        path = cache / name if cache else None
        if (path is not None and path.is_file()) or (folder is not None and folder.is_dir()):
            return _cached(path, make)
        return None

    def held_out():
        d = prepare_blend_data(
            BlendTrainConfig(
                labelled_dirs=[train_dir],
                real_pools=[p for p in pools if p.is_dir()],
                val_dir=None,
                out_dir=cache or Path("."),
                input_size=spec.input_size,
                face_margin=spec.face_margin,
                cache_dir=cache,
                progress=True,
                held_out_keys=a.held_out_keys,
            )
        )
        return d.cal_x.astype(np.uint8), d.cal_y  # uint8 in the cache: a quarter the size

    tag = f"{spec.name}_v{spec.version}"
    if resized:  # crops of another size are other faces: cached apart
        tag += f"_{spec.input_size}"
    held_tag = a.held_out_keys.stem if a.held_out_keys else "by_file"
    faces = Faces()
    held = faces_of(train_dir, f"held_out_{held_tag}_{spec.input_size}.pkl", held_out)
    if held is not None:
        faces.held_x, faces.held_y = held[0].astype(np.float32), held[1]
        faces.held_reencoded_x = reencoded(held[0]).astype(np.float32)
    faces.frames = (
        faces_of(val_dir, f"frames_{tag}.pkl", lambda: cut_frames(analyser, val_dir, True)) or []
    )
    # The videos' faces depend on how often the whole frame is searched: cached apart.
    look_tag = f"_look{analyser.config.full_look_every}"
    faces.videos = (
        faces_of(
            videos_dir,
            f"videos_{tag}{look_tag}.pkl",
            lambda: cut_videos(analyser, videos_dir, True),
        )
        or []
    )

    scored: dict[Path, tuple[dict, dict]] = {}

    def scored_once(path: Path) -> tuple[dict, dict]:
        # The reference is usually one of the candidates too: score it once.
        key = Path(path).resolve()
        if key not in scored:
            scored[key] = score(candidate_classifier(path, spec), spec, faces)
        return scored[key]

    reference = None
    if a.reference:
        figures, reference = scored_once(a.reference)
        print(_row(f"reference {str(a.reference)[-30:]}", figures), flush=True)
    results = []
    for path in a.candidates:
        figures, raw = scored_once(path)
        results.append((path, figures))
        print(_row(str(path)[-40:], figures), flush=True)
        record = dict(figures)
        if reference is not None:
            deltas = against(raw, reference)
            print(_against_row(a.reference.name, deltas), flush=True)
            record["vs_reference"] = {"reference": str(a.reference), **deltas}
        if a.json:
            with open(a.json, "a") as fh:
                fh.write(json.dumps({"candidate": str(path), **record}) + "\n")
    ranked = [(p, f) for p, f in results if f.get("held_out") is not None]
    if ranked:
        best = max(ranked, key=lambda pf: pf[1]["held_out"])
        print(f"held-out choice: {best[0]} ({best[1]['held_out']:.4f})")
    return 0
