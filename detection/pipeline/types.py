"""Dataclasses passed between the pipeline's stages."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class AnalysisConfig:
    frames_to_sample: int = 32
    face_detector: str = "blazeface"  # or "haar", the original paper's Viola-Jones
    # Videos longer than this are refused before any decoding work (keeps a worker from
    # spending minutes on a two-hour upload).
    max_duration_s: float = 600.0
    # Frames are downscaled so their longer side is at most this before face detection;
    # detection cost grows with pixels, and faces worth scoring survive the downscale.
    detect_max_side: int = 640
    # Faces smaller than this fraction of the frame's shorter side are ignored as noise.
    min_face_fraction: float = 0.1
    max_faces_per_frame: int = 4
    # Refuse absurd resolutions (a "video" of 20000x20000 would exhaust memory per frame).
    max_pixels: int = 8192 * 8192
    # Find and score faces on a second thread while the video decodes (False: one stage after
    # the other; the results are the same).
    overlap_stages: bool = True
    # A full look at the whole frame for faces at least every this many sampled frames; in
    # between, the last frame's faces (one or two) are looked for only around where they were,
    # with BlazeFace's short-range model (faces.FaceFinder). 1: a full look at every frame.
    full_look_every: int = 4


@dataclass(frozen=True)
class VideoInfo:
    width: int
    height: int
    fps: float
    frame_count: int
    duration_s: float
    codec: str


@dataclass(frozen=True, eq=False)
class SampledFrame:
    index: int
    timestamp_s: float
    image: np.ndarray  # BGR, uint8, as OpenCV decodes it


@dataclass(frozen=True)
class FaceBox:
    x: int
    y: int
    w: int
    h: int

    @property
    def area(self) -> int:
        return self.w * self.h


@dataclass(frozen=True, eq=False)
class FaceCrop:
    frame_index: int
    timestamp_s: float
    box: FaceBox
    image: np.ndarray  # BGR square crop around the face, with margin


@dataclass(frozen=True, eq=False)
class FaceScore:
    frame_index: int
    timestamp_s: float
    box: FaceBox
    raw_score: float  # the model's output, 0..1 (the sigmoid of `logit`)
    fake_probability: float  # after calibration
    crop: np.ndarray
    person: int = 0  # which tracked person this face belongs to
    logit: float = 0.0  # the model's output before its sigmoid


@dataclass(frozen=True)
class FrameOutcome:
    """One sampled frame: its faces' scores (empty when no face was found)."""

    index: int
    timestamp_s: float
    faces: tuple[FaceScore, ...] = ()

    @property
    def fake_probability(self) -> float | None:
        # The frame is as suspicious as its most suspicious face.
        if not self.faces:
            return None
        return max(f.fake_probability for f in self.faces)


@dataclass(frozen=True)
class PersonOutcome:
    """One person tracked across the sampled frames."""

    index: int
    fake_probability: float  # pooled over the person's faces (the spec's person_pooling)
    frames_seen: int
    representative: FaceScore  # the largest (clearest) view of the face
    # False for short tracks (a detector false positive, a passer-by): shown, but they do not
    # decide the video's score while a person seen for longer exists.
    counts_for_video: bool = True
    logit: float | None = None  # the mean of the person's face logits, before calibration


VERDICT_FAKE = "fake"
VERDICT_REAL = "real"
VERDICT_UNCERTAIN = "uncertain"
VERDICT_NO_FACE = "no_face"


@dataclass(frozen=True)
class VideoResult:
    verdict: str
    fake_probability: float | None
    frames_sampled: int
    frames_with_face: int
    faces_scored: int
    frames: tuple[FrameOutcome, ...]
    info: VideoInfo
    persons: tuple[PersonOutcome, ...] = ()
    timings: dict[str, float] = field(default_factory=dict)
