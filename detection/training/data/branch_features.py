"""Per-face features of labelled videos and face crops, for training the detector's branches.

    python -m detection.training branch-features --data ../shared/data --out var/features \
        [--spec detection/models/lite0_sbi_v6.json] [--imagenet var/lite0_imagenet.npz] \
        [--frames 32] [--crops 1500]

Each labelled video goes through the pipeline as the worker runs it (sampled frames, BlazeFace
with looks around known faces, people tracked); for every face it keeps:
- the blending branch's logit (the version's served classifier, as the worker scores it);
- the 1280-d pooled features of that version's backbone on the crop as served (`feat`) and on
  the size-normalised crop (`feat_norm`: `normalise_face` resamples every face through one
  fixed face size, so a 512 px source and a 96 px source look alike to the model);
- with `--imagenet`, the same pooled features of an ImageNet-only EfficientNet-Lite0
  (`feat_imnet`, normalised crop): a frozen extractor no deepfake ever tuned;
- the face's size in source pixels, its box, the frame's time, and the tracked person.

One .npz per video or crop folder under `--out` (written atomically), so a stopped run picks up
where it was; `load_features` joins them with their labels, dataset and source group (the
generator's repository, FF++'s method, the OpenForensics split) for leave-one-source-out work.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import time
from pathlib import Path

import cv2
import numpy as np

from detection.pipeline.decode import sample_frames
from detection.pipeline.errors import PipelineError
from detection.pipeline.faces import find_faces
from detection.pipeline.fusion import face_side, normalise_face
from detection.pipeline.people import people_for_crops
from detection.pipeline.spec import ModelSpec
from detection.pipeline.types import AnalysisConfig

from .labelled import IMAGE_SUFFIXES, VIDEO_SUFFIXES, labelled_files

FEATURE_KEYS = ("feat", "feat_norm", "feat_imnet", "mid", "mid_imnet")
# The last block of each EfficientNet-Lite0 stage from the second on: their pooled outputs
# (24 + 40 + 80 + 112 + 192 + 320 = 768 values) are the mid-level features (`mid`,
# `mid_imnet`), closer to texture than the head's 1280.
STAGE_ENDS = (
    "block2_add",
    "block4_add",
    "block7_add",
    "block10_add",
    "block14_add",
    "block15_project_bn",
)


def pooled_stages(model):
    """A model giving the concatenated global average of each stage's last block."""
    import keras

    pooled = [keras.layers.GlobalAveragePooling2D()(model.get_layer(n).output) for n in STAGE_ENDS]
    return keras.Model(model.inputs, keras.layers.Concatenate()(pooled))


def video_source(path: Path) -> tuple[str, str]:
    """(dataset, source group) of a labelled video: generator clips are grouped by the
    repository they came from (fakes and the reals shipped with them share people and
    motions, so they are held out together); FF++ clips by method, reals by their origin."""
    parts = path.parts
    if "generators" in parts:
        return "generators", path.name.split("__", 1)[0].lower()
    if any(p.startswith("ffpp") for p in parts):
        i = next(i for i, p in enumerate(parts) if p in ("real", "fake"))
        rest = parts[i + 1 : -1]
        # The reals (YouTube and DFD actors, at either compression) are one source.
        return "ffpp", ("real" if parts[i] == "real" else (rest[0] if rest else parts[i]))
    return path.parent.name, path.parent.name


class FeatureExtractor:
    """The blending branch's served logits plus pooled backbone features, batched."""

    def __init__(self, spec_path: Path, imagenet_npz: Path | None = None):
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        import keras
        import tensorflow as tf

        from detection.pipeline.classify import logit_head, make_classifier

        from ..recipes.architectures import efficientnet_lite0_backbone, load_lite0_imagenet

        self.spec = ModelSpec.load(spec_path)
        weights = self.spec.weights_path(spec_path)
        self.classifier = make_classifier(self.spec, weights)
        loaded = keras.models.load_model(weights, compile=False)
        features, _, _ = logit_head(loaded)
        self._feat = tf.function(lambda x: features(x, training=False), reduce_retracing=True)
        mid = pooled_stages(loaded)
        self._mid = tf.function(lambda x: mid(x, training=False), reduce_retracing=True)
        self._imnet = self._mid_imnet = None
        if imagenet_npz:
            size = self.spec.input_size
            inputs = keras.Input(shape=(size, size, 3))
            x = keras.layers.Rescaling(1.0 / 128.0, offset=-127.0 / 128.0, name="scale")(inputs)
            x = keras.layers.GlobalAveragePooling2D(name="pool")(efficientnet_lite0_backbone(x))
            model = keras.Model(inputs, x)
            if load_lite0_imagenet(model, imagenet_npz) < 50:
                raise ValueError(f"{imagenet_npz} does not hold EfficientNet-Lite0 weights")
            self._imnet = tf.function(lambda x: model(x, training=False), reduce_retracing=True)
            mid_imnet = pooled_stages(model)
            self._mid_imnet = tf.function(
                lambda x: mid_imnet(x, training=False), reduce_retracing=True
            )

    def _batch(self, crops: list[np.ndarray]) -> np.ndarray:
        from detection.pipeline.classify import preprocess

        return preprocess(crops, self.spec.input_size, self.spec.channels)

    def _run(self, fn, batch: np.ndarray) -> np.ndarray:
        return np.concatenate(
            [np.asarray(fn(batch[i : i + 64])) for i in range(0, len(batch), 64)]
        ).astype(np.float32)

    def features(self, crops: list[np.ndarray]) -> dict[str, np.ndarray]:
        served = self._batch(crops)
        # The same normalisation the served BranchScorer applies.
        normalised = self._batch(
            [normalise_face(c, face_side(c, self.spec.face_margin)) for c in crops]
        )
        out = {
            "blend_logit": self.classifier.logits_batch(served),
            "feat": self._run(self._feat, served),
            "feat_norm": self._run(self._feat, normalised),
            "mid": self._run(self._mid, normalised),
        }
        if self._imnet is not None:
            out["feat_imnet"] = self._run(self._imnet, normalised)
            out["mid_imnet"] = self._run(self._mid_imnet, normalised)
        return out


def _cache_name(path: Path) -> str:
    return hashlib.sha1(str(path).encode()).hexdigest()[:16] + ".npz"


def _save(out: Path, **arrays) -> None:
    tmp = out.with_suffix(".tmp.npz")
    np.savez(tmp, **arrays)
    os.replace(tmp, out)


def extract_video(
    extractor: FeatureExtractor, detector, path: Path, label: int, config: AnalysisConfig
) -> dict:
    info, frames = sample_frames(path, config)
    crops = find_faces(frames, detector, extractor.spec.face_margin, config.full_look_every)
    people = people_for_crops(
        [f.index for f in frames], [c.frame_index for c in crops], [c.box for c in crops]
    )
    dataset, group = video_source(path)
    face_px = [float(np.sqrt(c.box.area)) for c in crops]
    base = {
        "path": str(path),
        "label": label,
        "dataset": dataset,
        "group": group,
        "width": info.width,
        "height": info.height,
        "frames_sampled": len(frames),
        "fps": info.fps,
        "duration_s": info.duration_s,
        "size_bytes": path.stat().st_size,
        "frame_index": np.array([c.frame_index for c in crops], dtype=np.int32),
        "timestamp": np.array([c.timestamp_s for c in crops], dtype=np.float32),
        "person": np.array(people, dtype=np.int32),
        "box": np.array(
            [[c.box.x, c.box.y, c.box.w, c.box.h] for c in crops], dtype=np.float32
        ).reshape(-1, 4),
        "face_px": np.array(face_px, dtype=np.float32),
    }
    if crops:
        base.update(extractor.features([c.image for c in crops]))
    return base


def extract_crops(
    extractor: FeatureExtractor, detector, folder: Path, limit: int, seed: int = 0
) -> dict:
    """Labelled face pictures (OpenForensics): the face the pipeline would cut from each."""
    from detection.pipeline.types import SampledFrame

    files = labelled_files(folder, IMAGE_SUFFIXES)
    rng = np.random.default_rng(seed)
    by_label = {lab: [f for f in files if f[1] == lab] for lab in (0, 1)}
    chosen = []
    for items in by_label.values():
        idx = rng.permutation(len(items))[:limit]
        chosen += [items[i] for i in sorted(idx)]
    crops, labels, sizes = [], [], []
    for path, label, _ in chosen:
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if image is None:
            continue
        found = find_faces([SampledFrame(0, 0.0, image)], detector, extractor.spec.face_margin)
        if not found:
            continue
        from .labelled import labelled_face

        face = labelled_face(found, image.shape[1], image.shape[0])
        crops.append(face.image)
        labels.append(label)
        sizes.append(float(np.sqrt(face.box.area)))
    out = {
        "path": str(folder),
        "dataset": "openforensics",
        "group": folder.name,
        "labels": np.array(labels, dtype=np.int8),
        "face_px": np.array(sizes, dtype=np.float32),
    }
    out.update(extractor.features(crops))
    return out


def _backfill(target: Path, path: Path) -> None:
    """Adds the fields later rounds read to a cached video of an earlier round."""
    from detection.pipeline.decode import probe_video

    with np.load(target) as z:
        item = {k: z[k] for k in z.files}
    if "fps" in item:
        return
    info = probe_video(path)
    _save(target, **item, fps=info.fps, duration_s=info.duration_s, size_bytes=path.stat().st_size)


def load_features(folder: str | Path) -> tuple[list[dict], list[dict]]:
    """(videos, crop sets) from an extraction folder, each a dict of arrays and fields."""
    videos, crop_sets = [], []
    for f in sorted(Path(folder).glob("*.npz")):
        if f.name.endswith(".tmp.npz"):
            continue
        with np.load(f, allow_pickle=False) as z:
            item = {k: (z[k].item() if z[k].ndim == 0 else z[k]) for k in z.files}
        (crop_sets if "labels" in item else videos).append(item)
    return videos, crop_sets


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="the shared data folder")
    parser.add_argument("--out", required=True)
    parser.add_argument("--spec", default="detection/models/lite0_sbi_v6.json")
    parser.add_argument("--imagenet", help="ported ImageNet Lite0 weights (.npz)")
    parser.add_argument("--frames", type=int, default=32)
    parser.add_argument(
        "--crops", type=int, default=1500, help="OpenForensics pictures per class and split"
    )
    args = parser.parse_args(argv)

    from detection.pipeline.faces import make_detector

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    config = AnalysisConfig(frames_to_sample=args.frames)
    extractor = FeatureExtractor(Path(args.spec), Path(args.imagenet) if args.imagenet else None)
    detector = make_detector(config.face_detector, config)
    data = Path(args.data)
    videos = labelled_files(data / "videos", VIDEO_SUFFIXES)
    for n, (path, label, _) in enumerate(videos, 1):
        target = out / _cache_name(path)
        if target.exists():
            _backfill(target, path)
            continue
        started = time.perf_counter()
        try:
            item = extract_video(extractor, detector, path, label, config)
        except PipelineError as exc:
            print(f"[{n}/{len(videos)}] {path.name}: skipped ({exc})", flush=True)
            continue
        _save(target, **item)
        print(
            f"[{n}/{len(videos)}] {path.name}: {len(item['face_px'])} faces, "
            f"{time.perf_counter() - started:.1f} s",
            flush=True,
        )
    for split in ("train", "val"):
        folder = data / "faces" / "openforensics" / split
        target = out / _cache_name(folder)
        if folder.is_dir() and not target.exists():
            started = time.perf_counter()
            item = extract_crops(extractor, detector, folder, args.crops)
            _save(target, **item)
            print(
                f"openforensics/{split}: {len(item['labels'])} faces, "
                f"{time.perf_counter() - started:.1f} s",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
