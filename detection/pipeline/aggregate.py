"""Aggregate stage: per-face scores -> per-frame outcomes -> one video probability and verdict."""
from __future__ import annotations

import numpy as np

from .spec import ModelSpec
from .types import VERDICT_NO_FACE, FaceCrop, FaceScore, FrameOutcome, SampledFrame


def frame_outcomes(frames: list[SampledFrame], crops: list[FaceCrop], raw_scores: np.ndarray,
                   spec: ModelSpec) -> tuple[FrameOutcome, ...]:
    by_frame: dict[int, list[FaceScore]] = {f.index: [] for f in frames}
    for crop, raw in zip(crops, raw_scores, strict=True):
        by_frame[crop.frame_index].append(FaceScore(
            frame_index=crop.frame_index, timestamp_s=crop.timestamp_s, box=crop.box,
            raw_score=float(raw), fake_probability=spec.calibrate(float(raw)), crop=crop.image,
        ))
    return tuple(
        FrameOutcome(index=f.index, timestamp_s=f.timestamp_s, faces=tuple(by_frame[f.index]))
        for f in frames
    )


def video_probability(outcomes: tuple[FrameOutcome, ...]) -> float | None:
    """Mean of the per-frame probabilities over the frames in which a face was found.

    None when no face was found anywhere: "no face" is a verdict of its own, not a score of 0.5.
    """
    scores = [o.fake_probability for o in outcomes if o.fake_probability is not None]
    if not scores:
        return None
    return float(np.mean(scores))


def video_verdict(probability: float | None, spec: ModelSpec) -> str:
    if probability is None:
        return VERDICT_NO_FACE
    return spec.verdict_for(probability)
