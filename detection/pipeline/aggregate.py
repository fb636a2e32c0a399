"""Aggregate stage: per-face scores -> frames and people -> one video probability and verdict."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from .spec import ModelSpec, sigmoid
from .types import VERDICT_NO_FACE, FaceCrop, FaceScore, FrameOutcome, PersonOutcome, SampledFrame

# A person must be seen in at least this share of the frames that had a face (and in at least
# two frames) to decide the video's score; shorter tracks are mostly detector false positives.
MIN_PERSON_SHARE = 0.2


def frame_outcomes(
    frames: list[SampledFrame],
    crops: list[FaceCrop],
    logits: np.ndarray,
    spec: ModelSpec,
    people: list[int] | None = None,
) -> tuple[FrameOutcome, ...]:
    """Each face's logit (the classifier's output) as raw score and calibrated probability."""
    people = people if people is not None else [0] * len(crops)
    by_frame: dict[int, list[FaceScore]] = {f.index: [] for f in frames}
    for crop, z, person in zip(crops, logits, people, strict=True):
        by_frame[crop.frame_index].append(
            FaceScore(
                frame_index=crop.frame_index,
                timestamp_s=crop.timestamp_s,
                box=crop.box,
                raw_score=sigmoid(float(z)),
                fake_probability=spec.calibrate_logit(float(z)),
                crop=crop.image,
                person=person,
                logit=float(z),
            )
        )
    return tuple(
        FrameOutcome(index=f.index, timestamp_s=f.timestamp_s, faces=tuple(by_frame[f.index]))
        for f in frames
    )


def pooled_logit(faces: list[FaceScore]) -> float:
    """A person's evidence: the mean of their faces' logits."""
    return float(np.mean([f.logit for f in faces]))


def pooled_probability(faces: list[FaceScore], spec: ModelSpec) -> float:
    """One person's probability from their faces, as the model version says to pool them
    (with the version's video calibration where it has one)."""
    if spec.person_pooling == "mean_logit":
        return spec.calibrate_person_logit(pooled_logit(faces))
    return float(np.mean([f.fake_probability for f in faces]))


def person_outcomes(
    outcomes: tuple[FrameOutcome, ...], spec: ModelSpec
) -> tuple[PersonOutcome, ...]:
    faces_by_person: dict[int, list[FaceScore]] = {}
    for outcome in outcomes:
        for face in outcome.faces:
            faces_by_person.setdefault(face.person, []).append(face)
    frames_with_face = sum(1 for o in outcomes if o.faces)
    min_frames = max(2, int(np.ceil(MIN_PERSON_SHARE * frames_with_face)))
    persons = [
        PersonOutcome(
            index=index,
            fake_probability=pooled_probability(faces, spec),
            logit=pooled_logit(faces),
            frames_seen=len({f.frame_index for f in faces}),
            representative=max(faces, key=lambda f: f.box.area),
            counts_for_video=len({f.frame_index for f in faces}) >= min_frames,
        )
        for index, faces in sorted(faces_by_person.items())
    ]
    if persons and not any(p.counts_for_video for p in persons):
        # Nobody was seen for long (a very short clip): then everyone counts.
        persons = [replace(p, counts_for_video=True) for p in persons]
    return tuple(persons)


def video_probability(persons: tuple[PersonOutcome, ...]) -> float | None:
    """The most suspicious person's probability: one fake face is not diluted by a real
    bystander. None when no face was found: "no face" is a verdict, not a score of 0.5."""
    counted = [p.fake_probability for p in persons if p.counts_for_video]
    return max(counted) if counted else None


def video_logit(persons: tuple[PersonOutcome, ...]) -> float | None:
    """The pooled logit of the person who decides the video (the one `video_probability`
    follows: every calibration is increasing), None when no face was found. What a video
    calibration is fitted on."""
    counted = [p for p in persons if p.counts_for_video]
    return max(counted, key=lambda p: (p.fake_probability, p.logit)).logit if counted else None


def video_verdict(probability: float | None, spec: ModelSpec) -> str:
    if probability is None:
        return VERDICT_NO_FACE
    return spec.video_verdict_for(probability)
