"""How the short-range BlazeFace model's boxes differ from the full-range model's on the same
faces: the medians behind `blazeface.SHORT_BOX_SCALE` and `SHORT_BOX_SHIFT`.

    python -m detection.training short-range-boxes DIR [--limit 300]

Each picture is cut as training cuts faces (the full-range model in a grey border, which finds a
tight-cut face); the short-range model then looks in the square `AROUND` times that face's side,
and its raw box (before mapping) is compared with the full-range one: width and height ratios,
centre offsets in face widths and heights. Use training pictures, never validation sets.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from detection.pipeline import blazeface
from detection.pipeline.blazeface import BlazeFaceDetector, grey_border

SUFFIXES = {".jpg", ".jpeg", ".png"}


def raw_short_range_box(detector: BlazeFaceDetector, image: np.ndarray, found) -> np.ndarray | None:
    """The short-range box (x0, y0, x1, y1 in pixels) around a full-range detection, unmapped."""
    scale, shift = blazeface.SHORT_BOX_SCALE, blazeface.SHORT_BOX_SHIFT
    (around,) = detector.look_around(image, [found.box])
    if around is None:
        return None
    # Undo the mapping look_around applies, to measure the model's own convention.
    w, h = around.box.w * scale, around.box.h * scale
    cx = around.box.x + around.box.w / 2 + shift[0] * around.box.w
    cy = around.box.y + around.box.h / 2 + shift[1] * around.box.h
    return np.array([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2])


def measure(paths: list[Path], detector: BlazeFaceDetector | None = None) -> dict:
    detector = detector or BlazeFaceDetector()
    rows = []
    for path in paths:
        image = cv2.imread(str(path))
        if image is None:
            continue
        padded, _ = grey_border(image)
        found = detector.detect_with_keypoints(padded, tiles=False)
        if not found:
            continue
        box = raw_short_range_box(detector, padded, found[0])
        if box is None:
            continue
        full = found[0].box
        rows.append(
            (
                (box[2] - box[0]) / full.w,
                (box[3] - box[1]) / full.h,
                ((box[0] + box[2]) / 2 - (full.x + full.w / 2)) / full.w,
                ((box[1] + box[3]) / 2 - (full.y + full.h / 2)) / full.h,
            )
        )
    if not rows:
        return {"faces": 0}
    width, height, dx, dy = np.median(np.array(rows), axis=0)
    return {
        "faces": len(rows),
        "width_ratio": float(width),
        "height_ratio": float(height),
        "centre_shift_x": float(dx),
        "centre_shift_y": float(dy),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--limit", type=int, default=300)
    args = parser.parse_args(argv)
    paths = sorted(p for p in args.folder.rglob("*") if p.suffix.lower() in SUFFIXES)
    found = measure(paths[: args.limit])
    print(
        ", ".join(f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}" for k, v in found.items())
    )
    return 0
