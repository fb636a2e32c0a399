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
    # The speed profile this configuration came from (`PROFILES`), recorded with the result.
    profile: str = "default"

    @classmethod
    def for_profile(cls, name: str, **overrides) -> AnalysisConfig:
        """The configuration of a speed profile: "default" stays within 1.5x the decode-only
        floor; "thorough" looks at twice the frames, with a full look for faces in each."""
        if name not in PROFILES:
            raise ValueError(f"unknown profile {name!r}; known: {', '.join(PROFILES)}")
        return cls(profile=name, **{**PROFILES[name], **overrides})


PROFILES: dict[str, dict] = {
    "default": {},
    "thorough": {"frames_to_sample": 64, "full_look_every": 1},
}


@dataclass(frozen=True)
class VideoInfo:
    width: int
    height: int
    fps: float
    frame_count: int
    duration_s: float
    codec: str
    size_bytes: int = 0  # the file's size, for its bits per pixel (0: unknown)

    @property
    def bits_per_pixel(self) -> float | None:
        """Coded bits per pixel per frame: how hard the video was compressed."""
        pixels = self.width * self.height * self.fps * self.duration_s
        return self.size_bytes * 8 / pixels if self.size_bytes and pixels > 0 else None


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
    synthesis_logit: float | None = None  # a fused version's synthesis branch


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
    # A fused version's evidence: each branch's mean logit and own probability, the fused
    # probability and each input's share of its logit (`fusion.person_evidence`).
    branches: dict = field(default_factory=dict)
    # Time ranges where the person looks confidently fake, however brief.
    segments: tuple[Segment, ...] = ()
    face_px: float | None = None  # the median side of the person's faces, in source pixels


@dataclass(frozen=True)
class Segment:
    """A stretch of one person's sampled frames that looks manipulated."""

    start_s: float
    end_s: float
    probability: float  # the highest fused probability of a stretch inside it


@dataclass(frozen=True)
class Reason:
    """Why a verdict is uncertain (or was kept from clearing): a stable code, and words."""

    code: str
    message: str


# Reason codes a result can carry, with what each means.
REASON_CODES = {
    "small_faces": "the faces are too small to judge",
    "heavy_compression": "the video is more compressed than anything the model was trained on",
    "unfamiliar_source": "the faces look unlike every source the model was trained on",
    "fake_stretch": "a person looks manipulated for part of the video",
    "brief_fake_person": "a person seen only briefly looks manipulated",
}


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
    reasons: tuple[Reason, ...] = ()
    profile: str = "default"
