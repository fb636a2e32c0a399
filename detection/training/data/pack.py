"""A training pack: the faces a self-blended run trains on, in one compact file.

Training on an accelerator happens on another machine than the one holding the datasets; the
pack carries only what the run needs (the detected, aligned training faces with their keypoints,
WebP-coded) and never the held-out calibration faces, which stay where the run is finalised.
Plain numpy and OpenCV, no Django.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2
import numpy as np


def _encode(images: np.ndarray, quality: int) -> tuple[np.ndarray, np.ndarray]:
    def one(image):
        # WebP: at the same visible quality about 60% of JPEG's size, and packs travel.
        ok, buf = cv2.imencode(".webp", image, [cv2.IMWRITE_WEBP_QUALITY, quality])
        if not ok:
            raise ValueError("could not encode a face")
        return buf.reshape(-1)

    with ThreadPoolExecutor() as pool:
        coded = list(pool.map(one, images))
    offsets = np.cumsum([0] + [len(c) for c in coded]).astype(np.int64)
    blob = np.concatenate(coded) if coded else np.zeros(0, np.uint8)
    return blob, offsets


def _decode(blob: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    def one(i):
        return cv2.imdecode(blob[offsets[i] : offsets[i + 1]], cv2.IMREAD_COLOR)

    with ThreadPoolExecutor() as pool:
        images = list(pool.map(one, range(len(offsets) - 1)))
    return np.stack(images) if images else np.zeros((0, 1, 1, 3), np.uint8)


def write_pack(
    path: Path,
    *,
    reals: np.ndarray,
    real_kps: np.ndarray,
    fakes: np.ndarray,
    meta: dict,
    quality: int = 90,
) -> dict:
    """Write the training faces (uint8 BGR, same size) and return what was written."""
    real_blob, real_offsets = _encode(reals, quality)
    fake_blob, fake_offsets = _encode(fakes, quality)
    meta = {
        **meta,
        "reals": int(len(reals)),
        "fakes": int(len(fakes)),
        "webp_quality": quality,
        "size": int(reals.shape[1]),
    }
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(
        path,
        real_blob=real_blob,
        real_offsets=real_offsets,
        real_kps=real_kps.astype(np.float32),
        fake_blob=fake_blob,
        fake_offsets=fake_offsets,
        meta=np.asarray(json.dumps(meta)),
    )
    return {**meta, "bytes": path.stat().st_size}


def read_pack(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict]:
    """(reals, real keypoints, fakes, meta) from a pack."""
    saved = np.load(path, allow_pickle=False)
    reals = _decode(saved["real_blob"], saved["real_offsets"])
    fakes = _decode(saved["fake_blob"], saved["fake_offsets"])
    return reals, saved["real_kps"], fakes, json.loads(str(saved["meta"]))


def pack_blend_data(config, path: Path, quality: int = 90) -> dict:
    """Detect and cut the faces of a `BlendTrainConfig`, split off the held-out faces, and
    write the faces to train on into a pack."""
    from detection.training.recipes.train import HELD_OUT_SPLIT, prepare_blend_data

    data = prepare_blend_data(config)
    meta = {
        "labelled_dirs": [str(p) for p in config.labelled_dirs],
        "real_pools": [str(p) for p in config.real_pools],
        "face_margin": config.face_margin,
        "seed": config.seed,
        "calibration_fraction": config.calibration_fraction,
        "held_out_split": HELD_OUT_SPLIT,
        "faces_per_source": data.sources,
    }
    if config.held_out_keys:
        # Weights continued from an earlier run must not train on the faces it held out.
        meta["held_out_keys"] = Path(config.held_out_keys).name
    return write_pack(
        path,
        reals=data.reals[data.real_fit],
        real_kps=data.real_kps[data.real_fit],
        fakes=data.fakes[data.fake_fit],
        meta=meta,
        quality=quality,
    )


def main(argv=None) -> None:
    import argparse

    from detection.training.data.labelled import real_pools_under
    from detection.training.recipes.train import BlendTrainConfig

    parser = argparse.ArgumentParser(
        description="Write a training pack for an accelerator run (parallel_train): the detected, "
        "aligned training faces of the self-blended recipe, without the held-out ones."
    )
    parser.add_argument(
        "--data",
        type=Path,
        required=True,
        help="data root holding faces/openforensics/train and the real-face pools",
    )
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument(
        "--real-pools",
        type=Path,
        nargs="*",
        help="default: faces/utkface_real and faces/rmfd_real under --data",
    )
    parser.add_argument("--input-size", type=int, default=128)
    parser.add_argument("--quality", type=int, default=95, help="WebP quality")
    parser.add_argument("--cache-dir", type=Path)
    parser.add_argument("--seed", type=int, default=1234)
    parser.add_argument(
        "--held-out-keys",
        type=Path,
        help="JSON naming the faces to hold out instead of the by-file split "
        "(the faces the weights to continue from never trained on)",
    )
    a = parser.parse_args(argv)
    faces = a.data / "faces"
    pools = a.real_pools if a.real_pools is not None else real_pools_under(a.data)
    config = BlendTrainConfig(
        labelled_dirs=[faces / "openforensics/train"],
        real_pools=pools,
        val_dir=None,
        out_dir=a.out.parent,
        input_size=a.input_size,
        cache_dir=a.cache_dir,
        seed=a.seed,
        held_out_keys=a.held_out_keys,
    )
    written = pack_blend_data(config, a.out, quality=a.quality)
    print(json.dumps(written, indent=1))
