"""Fused results built from chosen branch scores: the aggregate stage without a model."""

from __future__ import annotations

import numpy as np

from detection.pipeline.analyse import aggregate_result
from detection.pipeline.spec import ModelSpec
from detection.pipeline.types import FaceBox, FaceCrop, SampledFrame, VideoInfo

FEATURES = 4


def fusion_section(**overrides) -> dict:
    """A fusion whose combiner adds the two branch means: p = sigmoid(blend + synthesis)."""
    section = {
        "synthesis": {"features": "feat_norm", "weights": [0.0] * FEATURES, "bias": 0.0},
        "combiner": {"inputs": ["blend", "synthesis"], "weights": [1.0, 1.0], "bias": 0.0},
        "branches": {"blend": {"a": 1.0, "b": 0.0}, "synthesis": {"a": 1.0, "b": 0.0}},
        "stretch_fake_from": 0.95,
        "min_face_px": 40.0,
        "min_bits_per_pixel": 0.001,
        "outliers": {
            "mean": [0.0] * FEATURES,
            "components": np.eye(FEATURES).tolist(),
            "spread": [1.0] * FEATURES,
            "limit": 3.0,
        },
    }
    section.update(overrides)
    return section


def fused_spec(**overrides) -> ModelSpec:
    return ModelSpec(
        name="fused_test",
        version="1",
        architecture="efficientnet_lite0",
        weights_file="none.keras",
        input_size=128,
        channels=3,
        face_margin=0.3,
        person_pooling="mean_logit",
        video_uncertain_low=0.3,
        video_uncertain_high=0.7,
        fusion=fusion_section(**overrides),
    )


def fused_result(
    people: list[dict],
    *,
    n_frames: int = 20,
    step_s: float = 0.5,
    spec: ModelSpec | None = None,
    size_bytes: int = 2_000_000,
    width: int = 640,
    height: int = 360,
):
    """`people`: dicts with `frames` (sampled frame numbers), `logits` (blend = synthesis
    logit per frame, or one for all), a `box` (x, y, side) and optional `features`."""
    spec = spec or fused_spec()
    frames = [
        SampledFrame(i, i * step_s, np.zeros((height, width, 3), np.uint8)) for i in range(n_frames)
    ]
    crops, rows, who = [], [], []
    for index, person in enumerate(people):
        x, y, side = person.get("box", (40 + 200 * index, 60, 120))
        logits = np.broadcast_to(np.asarray(person["logits"], float), (len(person["frames"]),))
        feats = person.get("features", [0.0] * FEATURES)
        for f, z in zip(person["frames"], logits, strict=True):
            crops.append(
                FaceCrop(f, f * step_s, FaceBox(x, y, side, side), np.zeros((8, 8, 3), np.uint8))
            )
            rows.append([z, z, *feats])
            who.append(index)
    order = np.argsort([c.frame_index for c in crops], kind="stable")
    crops = [crops[i] for i in order]
    info = VideoInfo(
        width=width,
        height=height,
        fps=25.0,
        frame_count=n_frames * 12,
        duration_s=n_frames * step_s,
        codec="h264",
        size_bytes=size_bytes,
    )
    return aggregate_result(
        info, frames, crops, [who[i] for i in order], np.asarray(rows, float)[order], spec, {}
    )
