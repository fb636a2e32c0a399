"""A model version's video calibration: labelled videos -> a second Platt scaling and the
band its video verdicts use.

Faces are calibrated on held-out still crops (`train.py`). Pooled over a video's frames, the
same logits run lower on compressed video fakes than on the crops' fakes: on the 67 FF++ clips,
lite0_sbi v5's face calibration gives the videos an ECE of 0.38 and calls more fakes real than
fake. So people and videos get a calibration of their own, fitted on labelled videos:

- each video's logit is the pooled mean logit of the person who decides it
  (`aggregate.video_logit`); videos where no face was found, or that failed, are left out and
  counted;
- Platt scaling with class-balanced weights: the probability is what it would be with as many
  reals as fakes. A labelled set's share of fakes (two thirds on FF++) says how it was put
  together, not what a site receives;
- every figure reported is leave-one-out: each video's probability comes from a fit without
  it (two parameters, so one video at a time is cheap and has no seed);
- the band is chosen on those probabilities by error rates, which do not depend on the share
  of fakes, where precision would: `low` lets at most `max_miss` of the fakes be called real
  (auto-cleared), `high` at most `max_false_flag` of the reals be called fake.

`python -m detection.training calibrate-videos --model SPEC (--data DIR | --report JSON)
[--write]`; `--write` stores it in the spec and its card; `manage.py register_model` then
updates the registry row.
"""

from __future__ import annotations

import argparse
import json
import math
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from detection.pipeline.spec import ModelSpec, sigmoid
from detection.training.evaluation import metrics

# Fewer than this many of either class and neither the fit nor the band means anything.
MIN_PER_CLASS = 10


@dataclass(frozen=True)
class VideoCalibration:
    a: float
    b: float
    low: float
    high: float
    max_miss: float
    max_false_flag: float
    n: int
    n_fake: int
    left_out: int  # videos without a logit: no face found, or unreadable
    # Leave-one-out figures with the new calibration and band; "before": the same videos with
    # the version's current probabilities (its face calibration, unless it had a video one).
    loo: dict
    before: dict

    def as_metrics(self, data: str) -> dict:
        return {
            "dir": data,
            "method": "Platt scaling of the deciding person's mean logit, "
            "class-balanced; figures leave-one-out",
            **asdict(self),
        }


def band_figures(labels: np.ndarray, probabilities: np.ndarray, low: float, high: float) -> dict:
    weights = metrics.balanced_weights(labels)
    return {
        "ece": metrics.expected_calibration_error(labels, probabilities),
        "balanced_ece": metrics.expected_calibration_error(labels, probabilities, weights=weights),
        "accuracy": metrics.accuracy(labels, probabilities, 0.5),
        "balanced_accuracy": float(np.average((probabilities >= 0.5) == labels, weights=weights)),
        **metrics.band_rates(labels, probabilities, low, high),
    }


def leave_one_out(labels: np.ndarray, logits: np.ndarray) -> np.ndarray:
    """Each video's probability from a balanced Platt fit on all the other videos."""
    out = np.empty(len(labels))
    for i in range(len(labels)):
        keep = np.arange(len(labels)) != i
        a, b = metrics.fit_platt_logits(labels[keep], logits[keep], balanced=True)
        out[i] = sigmoid(a * logits[i] + b)
    return out


def error_rate_band(
    labels: np.ndarray, probabilities: np.ndarray, max_miss: float, max_false_flag: float
) -> tuple[float, float]:
    """(low, high), on a 0.001 grid: below `low` at most `max_miss` of the fakes, at or above
    `high` at most `max_false_flag` of the reals. Where the two cross (a model that separates
    the classes that well), both sit at their midpoint: nothing is uncertain."""
    fakes = np.sort(probabilities[labels == 1])
    reals = np.sort(probabilities[labels == 0])
    k = int(math.floor(max_miss * len(fakes) + 1e-9))  # fakes that may fall below `low`
    low = math.floor(fakes[k] * 1000) / 1000 if k < len(fakes) else 1.0
    j = int(math.floor(max_false_flag * len(reals) + 1e-9))  # reals that may reach `high`
    highest_unflagged = reals[len(reals) - 1 - j] if j < len(reals) else -1.0
    high = math.floor(highest_unflagged * 1000) / 1000 + 0.001
    if low > high:
        low = high = round((low + high) / 2, 3)
    return max(0.0, low), min(1.0, high)


def fit(
    spec: ModelSpec, rows: list[dict], *, max_miss: float = 0.1, max_false_flag: float = 0.1
) -> VideoCalibration:
    """The video calibration from rows of `evaluate.analyse_videos` (label, logit,
    fake_probability)."""
    if spec.person_pooling != "mean_logit":
        raise ValueError(
            "a video calibration needs a version that pools people by mean logit "
            f"(this one: {spec.person_pooling})"
        )
    if any("logit" not in r for r in rows):
        raise ValueError("these rows have no logits: evaluate the videos again with this code")
    rated = [r for r in rows if r["logit"] is not None]
    labels = np.array([int(r["label"]) for r in rated])
    logits = np.array([float(r["logit"]) for r in rated])
    n_fake = int(labels.sum())
    if min(n_fake, len(labels) - n_fake) < MIN_PER_CLASS:
        raise ValueError(
            f"too few labelled videos with a face to calibrate on: {n_fake} fake "
            f"and {len(labels) - n_fake} real, at least {MIN_PER_CLASS} of each "
            "needed"
        )
    a, b = metrics.fit_platt_logits(labels, logits, balanced=True)
    if a <= 0:
        raise ValueError(
            f"the videos' logits do not rank fakes above reals (slope {a:.3f}): "
            "this model cannot be calibrated on them"
        )
    loo = leave_one_out(labels, logits)
    low, high = error_rate_band(labels, loo, max_miss, max_false_flag)
    before = np.array([float(r["fake_probability"]) for r in rated])
    return VideoCalibration(
        a=float(a),
        b=float(b),
        low=low,
        high=high,
        max_miss=max_miss,
        max_false_flag=max_false_flag,
        n=len(labels),
        n_fake=n_fake,
        left_out=len(rows) - len(rated),
        loo=band_figures(labels, loo, low, high),
        before=band_figures(labels, before, *spec.video_band),
    )


def apply(spec: ModelSpec, calibration: VideoCalibration, data: str) -> ModelSpec:
    """The spec with this video calibration and band, and its figures in the metrics."""
    return replace(
        spec,
        video_calibration_a=calibration.a,
        video_calibration_b=calibration.b,
        video_uncertain_low=calibration.low,
        video_uncertain_high=calibration.high,
        metrics={**spec.metrics, "video_calibration": calibration.as_metrics(data)},
    )


def _rows_from_report(path: Path, spec: ModelSpec) -> tuple[list[dict], str]:
    report = json.loads(Path(path).read_text())
    model = report.get("model", {})
    if (model.get("name"), str(model.get("version"))) != (spec.name, spec.version):
        raise ValueError(
            f"{path} evaluates {model.get('name')} v{model.get('version')}, not "
            f"{spec.name} v{spec.version}"
        )
    videos = report.get("videos", {}).get("videos")
    if not videos:
        raise ValueError(f"{path} has no per-video rows")
    return videos, report.get("data", str(path))


def figures_line(name: str, f: dict) -> str:
    """One line of `band_figures`, as the calibration commands print them."""
    return (
        f"  {name:<14} ECE {f['ece']:.3f} (balanced {f['balanced_ece']:.3f})  accuracy "
        f"{f['accuracy']:.3f} (balanced {f['balanced_accuracy']:.3f})  fakes called "
        f"real {f['fakes_called_real']:.0%}, reals called fake "
        f"{f['reals_called_fake']:.0%}, uncertain {f['uncertain_rate']:.0%}"
    )


def _describe(c: VideoCalibration) -> str:
    return "\n".join(
        [
            f"{c.n} videos ({c.n_fake} fake), {c.left_out} left out (no face or unreadable)",
            f"p = sigmoid({c.a:.4f} * logit + {c.b:.4f}); band: real below {c.low}, fake from "
            f"{c.high}",
            figures_line("before", c.before),
            figures_line("leave-one-out", c.loo),
        ]
    )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, required=True, help="the version's .json spec")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--data", type=Path, help="labelled videos (real/ and fake/ in paths)")
    source.add_argument(
        "--report",
        type=Path,
        help="an evaluate_model report.json of this version on labelled videos "
        "(reuses its analyses)",
    )
    parser.add_argument(
        "--max-miss",
        type=float,
        default=0.1,
        help="largest share of fakes the band may call real (default 0.1)",
    )
    parser.add_argument(
        "--max-false-flag",
        type=float,
        default=0.1,
        help="largest share of reals the band may call fake (default 0.1)",
    )
    parser.add_argument(
        "--write",
        action="store_true",
        help="store the calibration in the spec and re-render its card",
    )
    args = parser.parse_args(argv)

    spec = ModelSpec.load(args.model)
    if args.report:
        rows, data = _rows_from_report(args.report, spec)
    else:
        from detection.training.evaluation.evaluate import analyse_videos, load_analyser

        # The videos are scored with the version as it is; its video calibration, if any, is
        # refitted from the logits, which it does not change.
        rows, data = analyse_videos(load_analyser(args.model), args.data), str(args.data)
    calibration = fit(spec, rows, max_miss=args.max_miss, max_false_flag=args.max_false_flag)
    print(_describe(calibration))
    if args.write:
        from detection.training.report.model_card import write_card

        spec = apply(spec, calibration, data)
        spec.save(args.model)
        card = write_card(spec, args.model)
        print(
            f"updated {args.model} and {card}; `python manage.py register_model "
            f"{args.model}` updates a registered version"
        )
    return 0
