"""What a model version is: its weights plus everything needed to use it the way it was trained.

Stored as a JSON file beside the weights (`<name>.json`). The registry keeps one record per
version: its serving config (`serving_config()`: every field but the descriptive ones, checked
by `ModelSpec.check`) under one key, and the metrics, notes and training date apart. Nothing
else lists these fields: the registry, the admin and the API read them from here.
"""

from __future__ import annotations

import json
from dataclasses import MISSING, asdict, dataclass, field
from dataclasses import fields as dataclass_fields
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


# What describes a version rather than decides its scores: kept apart from its serving config.
DESCRIPTIVE_FIELDS = ("metrics", "trained_at", "notes")

_TYPES = {
    "str": (str,),
    "int": (int,),
    "float": (int, float),
    "bool": (bool,),
    "dict": (dict,),
}


def _of_type(value, annotation: str) -> bool:
    """Whether a JSON value fits a field's annotation ("float | None", "dict", ...)."""
    for part in str(annotation).split("|"):
        part = part.strip()
        if part == "None" and value is None:
            return True
        kinds = _TYPES.get(part)
        if kinds and isinstance(value, kinds) and (part == "bool" or not isinstance(value, bool)):
            return True
    return False


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
    # How the served file was made and what it outputs (`convert_model`, `quantize`): "file"
    # (the LiteRT file, as `serving_file`), "output" ("logit"), "quantization" ("int8"),
    # "features" (a second output of pooled features), "keras_sha256" (the weights it was
    # converted from), fidelity figures. Serving config, kept apart from the metrics.
    serving: dict = field(default_factory=dict)
    # The SHA-256 of the weights file and of the LiteRT serving file: a version names the
    # exact bytes it scores with, and the worker refuses other bytes under the same name.
    # Empty: not pinned (a spec being trained or converted).
    weights_sha256: str = ""
    serving_sha256: str = ""

    def __post_init__(self):
        if not (0 <= self.uncertain_low <= self.fake_threshold <= self.uncertain_high <= 1):
            raise ValueError(
                "the face band must satisfy 0 <= uncertain_low <= fake_threshold "
                "<= uncertain_high <= 1"
            )
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

    @property
    def face_band(self) -> tuple[float, float]:
        """(low, high) of the uncertain band for single faces and frames."""
        return self.uncertain_low, self.uncertain_high

    def to_dict(self) -> dict:
        return asdict(self)

    def serving_config(self) -> dict:
        """Everything that decides a score or a verdict: the registry's one record of it."""
        return {k: v for k, v in self.to_dict().items() if k not in DESCRIPTIVE_FIELDS}

    @classmethod
    def from_dict(cls, data: dict) -> ModelSpec:
        known = {f for f in cls.__dataclass_fields__}
        data = dict(data)
        metrics = data.get("metrics") or {}
        if "serving" not in data and "serving" in metrics:
            # Specs written before the serving config had its own key kept it in the metrics.
            data["serving"] = metrics["serving"]
            data["metrics"] = {k: v for k, v in metrics.items() if k != "serving"}
        return cls(**{k: v for k, v in data.items() if k in known})

    @classmethod
    def check(cls, config: dict) -> ModelSpec:
        """A serving config as the registry stores it, checked strictly: no unknown or missing
        field, each of its type, and the rules of `__post_init__`. Raises ValueError."""
        if not isinstance(config, dict):
            raise ValueError("a spec is a JSON object")
        fields_ = {f.name: f for f in dataclass_fields(cls) if f.name not in DESCRIPTIVE_FIELDS}
        unknown = sorted(set(config) - set(fields_))
        if unknown:
            raise ValueError(f"unknown field(s) in the spec: {', '.join(unknown)}")
        missing = sorted(n for n, f in fields_.items() if n not in config and f.default is MISSING)
        if missing:
            raise ValueError(f"the spec lacks: {', '.join(missing)}")
        for name, value in config.items():
            if not _of_type(value, fields_[name].type):
                raise ValueError(f"{name} must be {fields_[name].type}, not {type(value).__name__}")
        return cls.from_dict(config)

    @classmethod
    def load(cls, path: str | Path) -> ModelSpec:
        return cls.from_dict(json.loads(Path(path).read_text()))

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n")

    def weights_path(self, spec_path: str | Path) -> Path:
        p = Path(self.weights_file)
        return p if p.is_absolute() else Path(spec_path).resolve().parent / p
