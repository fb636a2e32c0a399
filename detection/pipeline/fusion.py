"""Branches and their fusion: what turns a person's faces into one calibrated probability.

Filled in below; `normalise_face` is the one resampling every texture branch sees first.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .spec import sigmoid

# Every face is resampled through this face side (in pixels) before a texture branch sees it:
# a 512 px source and a 96 px source then carry the same detail, so a branch cannot learn the
# source's resolution in place of the manipulation (on the generator set, fakes are sharper
# than their 256 px reals).
NORMALISED_FACE_PX = 64


def normalise_face(
    crop: np.ndarray, face_px: float, face_side: int = NORMALISED_FACE_PX
) -> np.ndarray:
    """The crop resampled so the face inside it is `face_side` pixels wide (area averaging
    when shrinking, bilinear when enlarging a face that was smaller)."""
    side = max(1, round(face_side * crop.shape[0] / max(1.0, face_px)))
    if side == crop.shape[0]:
        return crop
    interp = cv2.INTER_AREA if side < crop.shape[0] else cv2.INTER_LINEAR
    return cv2.resize(crop, (side, side), interpolation=interp)


# --- branch heads and the fusion ---------------------------------------------------------

# The fusion's possible inputs, per person (`person_inputs`): each branch's mean logit, how much
# it varies over the person's frames, its strongest short stretch, and two texture-free motion
# cues from the face boxes the pipeline already has.
ALL_INPUTS = (
    "blend",
    "synthesis",
    "blend_std",
    "synthesis_std",
    "blend_peak",
    "synthesis_peak",
    "jitter",
    "scale_change",
)
# A stretch is this many consecutive sampled faces of one person.
STRETCH = 3


@dataclass(frozen=True)
class LinearHead:
    """A logistic head folded into one weight vector and bias: logit = features . w + b."""

    weights: tuple[float, ...]
    bias: float

    def logits(self, features: np.ndarray) -> np.ndarray:
        w = np.asarray(self.weights, dtype=np.float64)
        return np.asarray(features, dtype=np.float64) @ w + self.bias


@dataclass(frozen=True, eq=False)
class PersonFaces:
    """One person's faces in time order: the branches' logits, times, boxes (x, y, w, h) and
    face sizes, and the shorter side of the frame."""

    blend: np.ndarray
    synthesis: np.ndarray
    timestamps: np.ndarray
    boxes: np.ndarray
    face_px: np.ndarray
    frame_side: float

    def part(self, start: int, length: int) -> PersonFaces:
        """The faces from `start`, `length` of them (a stretch)."""
        cut = slice(start, start + length)
        return PersonFaces(
            self.blend[cut],
            self.synthesis[cut],
            self.timestamps[cut],
            self.boxes[cut],
            self.face_px[cut],
            self.frame_side,
        )


def stretch_means(values: np.ndarray, length: int = STRETCH) -> np.ndarray:
    """Means over every run of `length` consecutive values (the whole run when shorter)."""
    values = np.asarray(values, dtype=np.float64)
    if len(values) <= length:
        return np.array([values.mean()]) if len(values) else np.zeros(0)
    kernel = np.ones(length) / length
    return np.convolve(values, kernel, mode="valid")


def _jitter(boxes: np.ndarray, face_px: np.ndarray) -> float:
    """Median movement of the face's centre between consecutive samples, in face sizes."""
    if len(boxes) < 2:
        return 0.0
    centres = boxes[:, :2] + boxes[:, 2:] / 2
    steps = np.linalg.norm(np.diff(centres, axis=0), axis=1) / np.maximum(face_px[1:], 1.0)
    return float(np.median(steps))


def person_inputs(faces: PersonFaces, inputs: tuple[str, ...]) -> list[float]:
    values = {}
    for branch in ("blend", "synthesis"):
        z = np.asarray(getattr(faces, branch), dtype=np.float64)
        values[branch] = float(z.mean())
        values[f"{branch}_std"] = float(z.std())
        values[f"{branch}_peak"] = float(stretch_means(z).max())
    values["jitter"] = _jitter(
        np.asarray(faces.boxes, np.float64), np.asarray(faces.face_px, np.float64)
    )
    px = np.log(np.maximum(np.asarray(faces.face_px, np.float64), 1.0))
    values["scale_change"] = float(np.median(np.abs(np.diff(px)))) if len(px) > 1 else 0.0
    return [values[name] for name in inputs]


@dataclass(frozen=True)
class Fusion:
    """The learned combiner: a class-balanced logistic regression on a person's inputs; its
    output is the person's calibrated probability (as if reals and fakes were equally many)."""

    inputs: tuple[str, ...]
    weights: tuple[float, ...]
    bias: float

    def logit(self, faces: PersonFaces) -> float:
        x = np.asarray(person_inputs(faces, self.inputs), dtype=np.float64)
        return float(x @ np.asarray(self.weights, dtype=np.float64) + self.bias)

    def probability(self, faces: PersonFaces) -> float:
        return sigmoid(self.logit(faces))

    def contributions(self, faces: PersonFaces) -> dict[str, float]:
        """Each input's share of the logit (weight x value), for the evidence shown."""
        x = person_inputs(faces, self.inputs)
        return {n: float(w * v) for n, w, v in zip(self.inputs, self.weights, x, strict=True)}


def counted(people: list, key, share: float = 0.2) -> list:
    """The people who decide a video: seen in at least `share` of the most-seen person's
    frames and in two frames (shorter tracks are mostly false detections); everyone when
    nobody is."""
    if not people:
        return []
    longest = max(key(p) for p in people)
    keep = [p for p in people if key(p) >= max(2, int(np.ceil(share * longest)))]
    return keep or list(people)


# --- what a fused version says, and how the pipeline applies it ----------------------------


@dataclass(frozen=True)
class BranchCalibration:
    """A branch's own Platt scaling of its person-level mean logit, for showing each branch's
    score as a probability beside the fused one (the fusion does not use it)."""

    a: float
    b: float

    def probability(self, z: float) -> float:
        return sigmoid(self.a * z + self.b)


@dataclass(frozen=True)
class Outliers:
    """How far a person's mean synthesis features sit from the training people's, in the
    units of the training spread along a few principal directions; beyond `limit` (a high
    quantile of the training people's own distances) the input is unlike the training data."""

    mean: tuple[float, ...]
    components: tuple[tuple[float, ...], ...]  # (k, d) principal directions
    spread: tuple[float, ...]  # (k,) standard deviation along each
    limit: float

    def distance(self, features: np.ndarray) -> float:
        centred = np.asarray(features, np.float64) - np.asarray(self.mean)
        projected = np.asarray(self.components) @ centred
        return float(np.sqrt(np.mean((projected / np.asarray(self.spread)) ** 2)))


@dataclass(frozen=True)
class FusionSpec:
    """A fused version's second branch, combiner and the rules for stretches and quality."""

    synthesis: LinearHead
    combiner: Fusion
    branches: dict  # branch name -> BranchCalibration
    # A stretch of `STRETCH` faces of one person whose fused probability reaches this is a
    # confident fake stretch: the video is never cleared, however brief it was.
    stretch_fake_from: float
    # Faces whose side is under this many source pixels are too small to judge.
    min_face_px: float
    # Videos coded with fewer bits per pixel than this are more compressed than anything the
    # version was trained or calibrated on.
    min_bits_per_pixel: float
    outliers: Outliers | None = None
    # What the synthesis head reads: the network's pooled features of the size-normalised
    # crop ("feat_norm") or of the crop as served ("feat").
    synthesis_input: str = "feat_norm"

    @classmethod
    def from_dict(cls, data: dict) -> FusionSpec:
        synth, comb = data["synthesis"], data["combiner"]
        out = data.get("outliers")
        return cls(
            synthesis=LinearHead(tuple(synth["weights"]), float(synth["bias"])),
            combiner=Fusion(tuple(comb["inputs"]), tuple(comb["weights"]), float(comb["bias"])),
            branches={
                k: BranchCalibration(float(v["a"]), float(v["b"]))
                for k, v in data["branches"].items()
            },
            stretch_fake_from=float(data["stretch_fake_from"]),
            min_face_px=float(data["min_face_px"]),
            min_bits_per_pixel=float(data["min_bits_per_pixel"]),
            synthesis_input=synth.get("features", "feat_norm"),
            outliers=None
            if out is None
            else Outliers(
                tuple(out["mean"]),
                tuple(tuple(r) for r in out["components"]),
                tuple(out["spread"]),
                float(out["limit"]),
            ),
        )

    @staticmethod
    def validate(data: dict) -> None:
        """Raises ValueError for a fusion section that cannot be served."""
        try:
            spec = FusionSpec.from_dict(data)
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"invalid fusion section: {exc!r}") from None
        unknown = set(spec.combiner.inputs) - set(ALL_INPUTS)
        if unknown or len(spec.combiner.inputs) != len(spec.combiner.weights):
            raise ValueError(f"the combiner's inputs and weights do not match ({unknown or ''})")
        if spec.synthesis_input not in ("feat", "feat_norm"):
            raise ValueError(f"a synthesis head on {spec.synthesis_input!r} cannot be served")
        if not 0 < spec.stretch_fake_from <= 1:
            raise ValueError("stretch_fake_from must be in (0, 1]")


def face_side(crop: np.ndarray, margin: float) -> float:
    """The face's side in source pixels, from its square crop (`faces.crop_face`)."""
    return crop.shape[0] / (1.0 + 2.0 * margin)


class BranchScorer:
    """Both branches for a batch of crops: column 0 the blending classifier's logit on the
    crop as served, column 1 the synthesis branch's logit on the size-normalised crop (the
    same network's pooled features through the version's linear head), plus the pooled
    features themselves for the outlier check. Used where a classifier is: `logits(crops)`."""

    def __init__(self, classifier, fusion_spec: FusionSpec):
        self.classifier = classifier
        self.spec = classifier.spec
        self.fusion = fusion_spec

    def __getattr__(self, name: str):
        # Everything else is the blending classifier's (its model for heatmaps, its
        # `logits_batch` for scoring still pictures, its threads): a fused version scores a
        # single face with its blending branch, as the frame-level figures always have.
        if name == "classifier":  # not set yet (unpickling, copying)
            raise AttributeError(name)
        return getattr(self.classifier, name)

    def single_threaded(self) -> BranchScorer:
        make = getattr(self.classifier, "single_threaded", None)
        return BranchScorer(make() if make else self.classifier, self.fusion)

    def logits(self, crops: list[np.ndarray]) -> np.ndarray:
        """(N, 2 + F): blend logit, synthesis logit, then the F pooled features."""
        from .classify import preprocess

        if not crops:
            return np.zeros((0, 2 + len(self.fusion.synthesis.weights)))
        blend = self.classifier.logits(crops)
        if self.fusion.synthesis_input == "feat_norm":
            crops = [normalise_face(c, face_side(c, self.spec.face_margin)) for c in crops]
        feats = self.classifier.features_batch(
            preprocess(crops, self.spec.input_size, self.spec.channels)
        )
        synth = self.fusion.synthesis.logits(feats)
        return np.column_stack([blend, synth, feats])
