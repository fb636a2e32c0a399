"""Decoding BlazeFace's TFLite outputs: SSD anchors to boxes, keypoints and scores.

Follows MediaPipe's SSD anchor and tensors-to-detections calculators: 16 numbers per anchor (box
centre and size, then six keypoints: eyes, nose, mouth, ear tragions), then MediaPipe's weighted
non-maximum suppression. Pure numpy, in the model input's normalised coordinates: where to look
and what to keep is the face stage's business (blazeface.py, faces.py).
"""

from __future__ import annotations

import numpy as np

INPUT_SIZE = 192  # the full-range model's input side
SHORT_INPUT_SIZE = 128  # the short-range model's


def full_range_anchors(size: int = INPUT_SIZE, stride: int = 4) -> np.ndarray:
    cells = size // stride
    ys, xs = np.mgrid[0:cells, 0:cells]
    return np.stack([(xs.ravel() + 0.5) / cells, (ys.ravel() + 0.5) / cells], axis=1).astype(
        np.float32
    )


def short_range_anchors() -> np.ndarray:
    """The short-range model's anchors: 2 per cell of a 16x16 grid, then 6 per cell of 8x8."""
    anchors = []
    for stride, per_cell in ((8, 2), (16, 6)):
        cells = SHORT_INPUT_SIZE // stride
        ys, xs = np.mgrid[0:cells, 0:cells]
        grid = np.stack([(xs.ravel() + 0.5) / cells, (ys.ravel() + 0.5) / cells], axis=1)
        anchors.append(np.repeat(grid, per_cell, axis=0))
    return np.concatenate(anchors).astype(np.float32)


SHORT_LAYER_ANCHORS = (512, 384)  # the 16x16 grid's anchors, then the 8x8 grid's


def per_square(output: np.ndarray, n: int) -> np.ndarray:
    """The short-range model's output for a batch of n, (1, n * 896, k), as (n, 896, k). It is
    laid out grid by grid, not square by square: every square's 512 anchors of the 16x16 grid,
    then every square's 384 of the 8x8 one."""
    output = output.reshape(-1, output.shape[-1])
    first = n * SHORT_LAYER_ANCHORS[0]
    return np.concatenate(
        [
            output[:first].reshape(n, SHORT_LAYER_ANCHORS[0], -1),
            output[first:].reshape(n, SHORT_LAYER_ANCHORS[1], -1),
        ],
        axis=1,
    )


def weighted_nms(
    boxes: np.ndarray, scores: np.ndarray, keypoints: np.ndarray, iou_threshold: float
) -> list[tuple[np.ndarray, float, np.ndarray]]:
    """MediaPipe's weighted NMS: overlapping candidates are averaged, weighted by score."""
    order = np.argsort(-scores)
    remaining = list(order)
    kept = []
    while remaining:
        best = remaining[0]
        b = boxes[best]
        others = boxes[remaining]
        x0 = np.maximum(b[0], others[:, 0])
        y0 = np.maximum(b[1], others[:, 1])
        x1 = np.minimum(b[2], others[:, 2])
        y1 = np.minimum(b[3], others[:, 3])
        inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
        area = (b[2] - b[0]) * (b[3] - b[1])
        areas = (others[:, 2] - others[:, 0]) * (others[:, 3] - others[:, 1])
        overlap = inter / np.maximum(area + areas - inter, 1e-9)
        group = [remaining[i] for i in np.flatnonzero(overlap > iou_threshold)]
        weights = scores[group][:, None]
        kept.append(
            (
                (boxes[group] * weights).sum(0) / weights.sum(),
                float(scores[best]),
                (keypoints[group] * weights[:, :, None]).sum(0) / weights.sum(),
            )
        )
        remaining = [r for r in remaining if r not in set(group)]
    return kept


def faces_in(
    raw: np.ndarray,
    logits: np.ndarray,
    anchors: np.ndarray,
    input_size: int,
    min_score: float,
    iou_threshold: float,
):
    """One image's raw model outputs -> weighted-NMS faces (box, score, keypoints), in the
    model input's normalised coordinates (both models decode the same way)."""
    scores = 1.0 / (1.0 + np.exp(-logits))
    candidates = np.flatnonzero(scores >= min_score)
    if not len(candidates):
        return []
    points = raw[candidates].reshape(-1, 8, 2) / input_size
    anchors = anchors[candidates][:, None, :]
    centre = points[:, 0:1] + anchors
    half = points[:, 1:2] / 2
    boxes = np.concatenate([centre - half, centre + half], axis=1).reshape(-1, 4)
    keypoints = points[:, 2:] + anchors
    return weighted_nms(boxes, scores[candidates], keypoints, iou_threshold)
