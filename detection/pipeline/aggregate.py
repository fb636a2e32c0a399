"""Aggregate stage: per-face scores -> frames and people -> one video probability and verdict."""
from __future__ import annotations

import numpy as np

from .spec import ModelSpec
from .types import (VERDICT_NO_FACE, FaceCrop, FaceScore, FrameOutcome, PersonOutcome,
                    SampledFrame)

# A person must be seen in at least this share of the frames that had a face (and in at least
# two frames) to decide the video's score; shorter tracks are mostly detector false positives.
MIN_PERSON_SHARE = 0.2


def frame_outcomes(frames: list[SampledFrame], crops: list[FaceCrop], raw_scores: np.ndarray,
                   spec: ModelSpec, people: list[int] | None = None) -> tuple[FrameOutcome, ...]:
    people = people if people is not None else [0] * len(crops)
    by_frame: dict[int, list[FaceScore]] = {f.index: [] for f in frames}
    for crop, raw, person in zip(crops, raw_scores, people, strict=True):
        by_frame[crop.frame_index].append(FaceScore(
            frame_index=crop.frame_index, timestamp_s=crop.timestamp_s, box=crop.box,
            raw_score=float(raw), fake_probability=spec.calibrate(float(raw)), crop=crop.image,
            person=person,
        ))
    return tuple(
        FrameOutcome(index=f.index, timestamp_s=f.timestamp_s, faces=tuple(by_frame[f.index]))
        for f in frames
    )


def person_outcomes(outcomes: tuple[FrameOutcome, ...]) -> tuple[PersonOutcome, ...]:
    faces_by_person: dict[int, list[FaceScore]] = {}
    for outcome in outcomes:
        for face in outcome.faces:
            faces_by_person.setdefault(face.person, []).append(face)
    frames_with_face = sum(1 for o in outcomes if o.faces)
    min_frames = max(2, int(np.ceil(MIN_PERSON_SHARE * frames_with_face)))
    persons = [
        PersonOutcome(
            index=index,
            fake_probability=float(np.mean([f.fake_probability for f in faces])),
            frames_seen=len({f.frame_index for f in faces}),
            representative=max(faces, key=lambda f: f.box.area),
            counts_for_video=len({f.frame_index for f in faces}) >= min_frames,
        )
        for index, faces in sorted(faces_by_person.items())
    ]
    if persons and not any(p.counts_for_video for p in persons):
        # Nobody was seen for long (a very short clip): then everyone counts.
        persons = [PersonOutcome(p.index, p.fake_probability, p.frames_seen, p.representative,
                                 True) for p in persons]
    return tuple(persons)


def video_probability(persons: tuple[PersonOutcome, ...]) -> float | None:
    """The most suspicious person's probability: one fake face is not diluted by a real
    bystander. None when no face was found: "no face" is a verdict, not a score of 0.5."""
    counted = [p.fake_probability for p in persons if p.counts_for_video]
    return max(counted) if counted else None


def video_verdict(probability: float | None, spec: ModelSpec) -> str:
    if probability is None:
        return VERDICT_NO_FACE
    return spec.verdict_for(probability)
