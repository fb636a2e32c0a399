"""What a model version is: its weights plus everything needed to use it the way it was trained.

Stored as a JSON file beside the weights (`<name>.json`), and copied into the database's
model-version registry when the version is registered.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np

# How a person's faces can become the person's probability, with the label the admin shows.
PERSON_POOLINGS = {
    "mean_probability": "mean of calibrated probabilities",
    "mean_logit": "calibrated mean logit",
}
# Raw scores are clipped this far from 0 and 1 before taking their logit: float32 sigmoid
# outputs reach exactly 1.0 from a logit of about 17, which is why models now serve logits.
RAW_EPS = 1e-7


def sigmoid(z):
    """1 / (1 + e^-z) in float64, without overflow for any z; a float for a number, an array
    for an array."""
    out = np.exp(-np.logaddexp(0.0, -np.asarray(z, dtype=np.float64)))
    return float(out) if out.ndim == 0 else out


def logit(raw):
    """The log-odds of a probability, clipped `RAW_EPS` from 0 and 1 (the one clipping used
    both to fit calibrations and to serve them); a float for a number, an array for an array."""
    p = np.clip(np.asarray(raw, dtype=np.float64), RAW_EPS, 1.0 - RAW_EPS)
    z = np.log(p) - np.log1p(-p)
    return float(z) if z.ndim == 0 else z


def _verdict(probability: float, low: float, high: float) -> str:
    from .types import VERDICT_FAKE, VERDICT_REAL, VERDICT_UNCERTAIN

    if probability >= high:
        return VERDICT_FAKE
    if probability < low:
        return VERDICT_REAL
    return VERDICT_UNCERTAIN


@dataclass(frozen=True)
class ModelSpec:
    name: str
    version: str
    architecture: str
    weights_file: str  # relative to the spec file's folder, or absolute
    input_size: int = 64
    channels: int = 1  # 1 = grayscale (the paper's CNN), 3 = RGB
    face_margin: float = 0.2
    # Platt scaling on the logit of the raw score, fitted on held-out data:
    # p = sigmoid(a * logit(raw) + b). a=1, b=0 is the identity.
    calibration_a: float = 1.0
    calibration_b: float = 0.0
    # Calibrated probability at or above `uncertain_high` -> fake, below `uncertain_low` -> real,
    # in between -> uncertain. `fake_threshold` is the single cut used for accuracy figures.
    fake_threshold: float = 0.5
    uncertain_low: float = 0.35
    uncertain_high: float = 0.65
    metrics: dict = field(default_factory=dict)
    trained_at: str = ""
    notes: str = ""
    # A LiteRT (.tflite) conversion of the weights for serving, relative to the weights' folder;
    # empty when there is none (the Keras weights are then served directly).
    serving_file: str = ""
    # Score each face and its mirror image and average the two logits (a face is no more or
    # less fake in a mirror; the average is steadier than either view).
    test_time_flip: bool = False
    # How a person's faces become the person's probability: "mean_probability" (the mean of
    # the calibrated probabilities) or "mean_logit" (the calibrated mean log-odds, which adds
    # up the evidence of every frame instead of capping each frame's say at 1).
    person_pooling: str = "mean_probability"
    # A second Platt scaling for people and videos, p = sigmoid(a * mean logit + b), fitted on
    # labelled videos (`training.calibrate_videos`), with the band its verdicts use. Faces
    # are calibrated on still crops; pooled over a video's frames, the same logits run lower on
    # compressed video fakes than the crops' fakes, so one calibration cannot serve both. None:
    # people and videos use the face calibration and band.
    video_calibration_a: float | None = None
    video_calibration_b: float | None = None
    video_uncertain_low: float | None = None
    video_uncertain_high: float | None = None
    # A fused version (`fusion.FusionSpec`): a synthesis branch on the same network's pooled
    # features, a learned combiner of both branches that gives people and videos their
    # probability (in place of the video calibration), and the rules for fake stretches and
    # inputs unlike the training data. None: the blending classifier alone.
    fusion: dict | None = None

    def __post_init__(self):
        if self.person_pooling not in PERSON_POOLINGS:
            raise ValueError(
                f"person_pooling must be one of {tuple(PERSON_POOLINGS)}, "
                f"not {self.person_pooling!r}"
            )
        if (self.video_calibration_a is None) != (self.video_calibration_b is None):
            raise ValueError("video_calibration_a and video_calibration_b go together")
        if self.video_calibration_a is not None:
            if self.person_pooling != "mean_logit":
                raise ValueError(
                    "a video calibration maps a person's mean logit: it needs "
                    "person_pooling 'mean_logit'"
                )
            if not self.video_calibration_a > 0:
                raise ValueError(
                    "video_calibration_a must be positive (a higher logit must "
                    "mean a more likely fake)"
                )
        if (self.video_uncertain_low is None) != (self.video_uncertain_high is None):
            raise ValueError("video_uncertain_low and video_uncertain_high go together")
        if self.fusion is not None:
            from .fusion import FusionSpec

            FusionSpec.validate(self.fusion)
        if self.video_uncertain_low is not None and not (
            0 <= self.video_uncertain_low <= self.video_uncertain_high <= 1
        ):
            raise ValueError("the video band must satisfy 0 <= low <= high <= 1")

    @cached_property
    def fusion_spec(self):
        """The parsed fusion section (`fusion.FusionSpec`), None for a single-branch version."""
        from .fusion import FusionSpec

        return None if self.fusion is None else FusionSpec.from_dict(self.fusion)

    @property
    def has_video_calibration(self) -> bool:
        return self.video_calibration_a is not None

    def calibrate(self, raw: float) -> float:
        """Calibrated probability from a raw score in 0..1 (the model's sigmoid output)."""
        return self.calibrate_logit(logit(raw))

    def calibrate_logit(self, z: float) -> float:
        """Calibrated probability from the model's logit (its output before the sigmoid)."""
        return sigmoid(self.calibration_a * float(z) + self.calibration_b)

    def calibrate_person_logit(self, z: float) -> float:
        """A person's (or a video's) probability from their pooled mean logit: the video
        calibration where the version has one, else the face calibration."""
        if self.video_calibration_a is None:
            return self.calibrate_logit(z)
        return sigmoid(self.video_calibration_a * float(z) + self.video_calibration_b)

    @property
    def video_band(self) -> tuple[float, float]:
        """(low, high) of the uncertain band for people and videos."""
        if self.video_uncertain_low is None:
            return self.uncertain_low, self.uncertain_high
        return self.video_uncertain_low, self.video_uncertain_high

    def verdict_for(self, probability: float) -> str:
        """A face's verdict from its calibrated probability (the face band)."""
        return _verdict(probability, self.uncertain_low, self.uncertain_high)

    def video_verdict_for(self, probability: float) -> str:
        """A video's verdict from its calibrated probability (the video band)."""
        return _verdict(probability, *self.video_band)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> ModelSpec:
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in known})

    @classmethod
    def load(cls, path: str | Path) -> ModelSpec:
        return cls.from_dict(json.loads(Path(path).read_text()))

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n")

    def weights_path(self, spec_path: str | Path) -> Path:
        p = Path(self.weights_file)
        return p if p.is_absolute() else Path(spec_path).resolve().parent / p
