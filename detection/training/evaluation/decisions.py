"""A model version's video calibration and band refitted on the site's own decisions.

Moderators' final decisions (confirmed fake, judged real) are the site's ground truth on the
videos it actually receives. Each decided item keeps the probability p its version gave the
video when it was routed. Whatever the version, that p is a logistic of a linear logit:

- a version with a video calibration: p = sigmoid(a * z + b), z the deciding person's mean
  logit;
- a version pooling by mean logit without one: the same with the face calibration;
- a fused version: p = sigmoid(weights . x + bias), the combiner on the person's inputs.

So a class-balanced Platt scaling of logit(p), p_new = sigmoid(a2 * logit(p) + b2), composes
exactly into the version's own parameters (a' = a2 * a, b' = a2 * b + b2; a fused version's
weights times a2, its bias a2 * bias + b2, its fake-stretch cut moved by the same map and kept
at or above the new band's top, as training keeps it), and the new version gives every video
p_new from the same inputs. A version pooling by mean probability is not a logistic of anything linear:
it is refused.

As for labelled videos (`calibration.py`): the fit is class-balanced (the probability is what
it would be with as many reals as fakes; a site's decisions say what its moderators were
shown, not its share of fakes), every figure is leave-one-out, and the band is chosen on
those probabilities by error rates. The before figures are the stored probabilities under the
version's current band; the AUC is the stored scores' (a monotone map leaves it unchanged).

Not a Django module: `moderation` reads the decisions and writes the new version
(`manage.py calibrate_from_decisions`).
"""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass, replace

import numpy as np

from detection.pipeline.spec import ModelSpec, logit, sigmoid
from detection.training.evaluation import metrics
from detection.training.evaluation.calibration import (
    MIN_PER_CLASS,
    band_figures,
    error_rate_band,
    figures_line,
    leave_one_out,
)

METHOD = (
    "class-balanced Platt scaling of logit(p) of moderators' decided items, composed into "
    "the version's video mapping; band by error rates; figures leave-one-out"
)


@dataclass(frozen=True)
class DecisionCalibration:
    a2: float  # p_new = sigmoid(a2 * logit(p) + b2)
    b2: float
    low: float
    high: float
    max_miss: float
    max_false_flag: float
    n: int
    n_fake: int
    left_out: int  # decided items without a score (no face found)
    auc: float | None  # of the stored scores: no monotone map changes it
    # Leave-one-out figures with the new mapping and band; "before": the stored
    # probabilities with the version's band (`before_band`).
    loo: dict
    before: dict
    before_band: tuple[float, float]
    # The spec fields of the new version (ModelSpec names): its video mapping and band.
    changes: dict

    def as_metrics(self, date: str) -> dict:
        figures = asdict(self)
        del figures["changes"]
        return {
            "method": METHOD,
            "date": date,
            **figures,
            "band": [self.low, self.high],
            "before_band": list(self.before_band),
        }


def compose(spec: ModelSpec, a2: float, b2: float) -> dict:
    """The spec fields that make `spec`'s video probability p into sigmoid(a2 * logit(p) + b2)
    from the same inputs."""
    if not a2 > 0:
        raise ValueError(f"a calibration must keep the order of the scores (slope {a2:.3f})")
    if spec.fusion is not None:
        fusion = copy.deepcopy(spec.fusion)
        combiner = fusion["combiner"]
        combiner["weights"] = [float(a2 * w) for w in combiner["weights"]]
        combiner["bias"] = float(a2 * combiner["bias"] + b2)
        # A fake stretch is the same evidence as before: its cut moves with the probabilities
        # (1, "never", stays 1).
        old = float(fusion["stretch_fake_from"])
        fusion["stretch_fake_from"] = old if old >= 1.0 else sigmoid(a2 * logit(old) + b2)
        return {"fusion": fusion}
    if spec.has_video_calibration:
        a, b = spec.video_calibration_a, spec.video_calibration_b
    elif spec.person_pooling == "mean_logit":
        a, b = spec.calibration_a, spec.calibration_b  # its people use the face calibration
    else:
        raise ValueError(
            f"{spec.name} v{spec.version} pools people by mean probability, neither a logistic "
            "of a logit nor fused: its videos' probabilities cannot be recalibrated exactly "
            "(calibrate a version that pools by mean logit)"
        )
    return {"video_calibration_a": float(a2 * a), "video_calibration_b": float(a2 * b + b2)}


def fit_from_decisions(
    spec: ModelSpec,
    labels,
    probabilities,
    *,
    left_out: int = 0,
    max_miss: float = 0.1,
    max_false_flag: float = 0.1,
    min_per_class: int = MIN_PER_CLASS,
) -> DecisionCalibration:
    """The new video mapping and band of `spec` from decided items: `labels` 1 confirmed fake,
    0 judged real; `probabilities` the video probability `spec` gave each (the items without
    one are left out by the caller and counted in `left_out`)."""
    labels = np.asarray(labels, dtype=int)
    probabilities = np.asarray(probabilities, dtype=np.float64)
    if labels.shape != probabilities.shape:
        raise ValueError("one label per probability")
    compose(spec, 1.0, 0.0)  # refuse a version that cannot be composed before anything else
    n_fake = int(labels.sum())
    n_real = len(labels) - n_fake
    if min(n_fake, n_real) < min_per_class:
        raise ValueError(
            f"too few decided items with a score to calibrate on: {n_fake} confirmed fake and "
            f"{n_real} judged real ({left_out} without a face left out); at least "
            f"{min_per_class} of each needed"
        )
    logits = logit(probabilities)  # clipped as serving clips
    a2, b2 = metrics.fit_platt_logits(labels, logits, balanced=True)
    if a2 <= 0:
        raise ValueError(
            f"the decisions do not rank confirmed fakes above judged reals on this version's "
            f"scores (slope {a2:.3f}): it cannot be calibrated on them"
        )
    loo = leave_one_out(labels, logits)
    low, high = error_rate_band(labels, loo, max_miss, max_false_flag)
    changes = {
        **compose(spec, a2, b2),
        "video_uncertain_low": low,
        "video_uncertain_high": high,
    }
    if "fusion" in changes:
        # As training sets it: a confident fake stretch is never below the video's fake cut.
        fusion = changes["fusion"]
        fusion["stretch_fake_from"] = min(1.0, max(fusion["stretch_fake_from"], high))
    replace(spec, **changes)  # the new version's spec must be valid (raises ValueError)
    return DecisionCalibration(
        a2=float(a2),
        b2=float(b2),
        low=low,
        high=high,
        max_miss=max_miss,
        max_false_flag=max_false_flag,
        n=len(labels),
        n_fake=n_fake,
        left_out=left_out,
        auc=metrics.auc(labels, probabilities),
        loo=band_figures(labels, loo, low, high),
        before=band_figures(labels, probabilities, *spec.video_band),
        before_band=tuple(spec.video_band),
        changes=changes,
    )


def describe(c: DecisionCalibration) -> str:
    """What `calibrate_from_decisions` prints."""
    auc = "n/a" if c.auc is None else f"{c.auc:.3f}"
    low, high = c.before_band
    return "\n".join(
        [
            f"{c.n} decided items ({c.n_fake} confirmed fake, {c.n - c.n_fake} judged real), "
            f"{c.left_out} without a face left out; AUC {auc}",
            f"p_new = sigmoid({c.a2:.4f} * logit(p) + {c.b2:.4f}); band: real below {c.low}, "
            f"fake from {c.high} (was {low:.3f}-{high:.3f}; at most {c.max_miss:.0%} of fakes "
            f"called real, {c.max_false_flag:.0%} of reals called fake)",
            figures_line("before", c.before),
            figures_line("leave-one-out", c.loo),
        ]
    )
