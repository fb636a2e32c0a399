"""Scores -> the figures we report (AUC, accuracy, calibration error) and Platt calibration."""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from detection.pipeline.spec import logit


def auc(labels, scores) -> float | None:
    labels = np.asarray(labels)
    if len(np.unique(labels)) < 2:
        return None  # undefined with one class
    return float(roc_auc_score(labels, scores))


def _bootstrap_aucs(labels, score_sets, resamples: int, seed: int) -> np.ndarray | None:
    """AUCs of each score set on the same stratified resamples, shape (sets, resamples):
    reals and fakes are resampled separately, so each resample keeps both class counts."""
    from scipy.stats import rankdata

    labels = np.asarray(labels).astype(int)
    pos_at, neg_at = np.flatnonzero(labels == 1), np.flatnonzero(labels == 0)
    if not len(pos_at) or not len(neg_at):
        return None
    rng = np.random.default_rng(seed)
    pick_pos = pos_at[rng.integers(0, len(pos_at), (resamples, len(pos_at)))]
    pick_neg = neg_at[rng.integers(0, len(neg_at), (resamples, len(neg_at)))]
    out = []
    for scores in score_sets:
        scores = np.asarray(scores, dtype=np.float64)
        # AUC from ranks (ties share their mean rank), one resample per row.
        ranks = rankdata(np.concatenate([scores[pick_pos], scores[pick_neg]], axis=1), axis=1)
        u = ranks[:, : len(pos_at)].sum(axis=1) - len(pos_at) * (len(pos_at) + 1) / 2
        out.append(u / (len(pos_at) * len(neg_at)))
    return np.stack(out)


def auc_interval(
    labels, scores, level: float = 0.95, resamples: int = 2000, seed: int = 0
) -> tuple[float, float] | None:
    """A bootstrap percentile interval for the AUC: reals and fakes are resampled separately
    (each resample keeps both class counts), so the interval says how far the figure could
    move on another draw of the same size. On 67 videos it spans about 0.2: two models 0.01
    apart there are not told apart."""
    aucs = _bootstrap_aucs(labels, [scores], resamples, seed)
    if aucs is None:
        return None
    tail = (1 - level) / 2
    return float(np.quantile(aucs[0], tail)), float(np.quantile(aucs[0], 1 - tail))


def auc_difference(
    labels, scores, reference, level: float = 0.95, resamples: int = 2000, seed: int = 0
) -> dict | None:
    """How far one model's AUC is from a reference's on the same items, with a paired
    bootstrap interval (both scored on each resample). Pairing removes what the two share,
    the draw of items, so the interval is much narrower than either AUC's own: it says
    whether a difference is more than the luck of the draw."""
    aucs = _bootstrap_aucs(labels, [scores, reference], resamples, seed)
    if aucs is None:
        return None
    diffs = aucs[0] - aucs[1]
    tail = (1 - level) / 2
    return {
        "difference": auc(labels, scores) - auc(labels, reference),
        "ci95": (float(np.quantile(diffs, tail)), float(np.quantile(diffs, 1 - tail))),
        "share_below_zero": float(np.mean(diffs < 0)),
    }


def accuracy(labels, probabilities, threshold: float) -> float:
    labels = np.asarray(labels)
    return float(np.mean((np.asarray(probabilities) >= threshold).astype(int) == labels))


def balanced_weights(labels) -> np.ndarray:
    """Per-item weights under which reals and fakes weigh the same in total: what a 50/50
    stream of uploads would see, whatever the share of fakes in the labelled set."""
    labels = np.asarray(labels).astype(int)
    counts = np.bincount(labels, minlength=2).astype(np.float64)
    if (counts == 0).any():
        return np.ones(len(labels))
    return len(labels) / (2.0 * counts[labels])


def expected_calibration_error(labels, probabilities, bins: int = 10, weights=None) -> float:
    """Weighted mean |observed fake rate - mean predicted probability| over equal-width bins
    (`weights`: per-item weights, e.g. `balanced_weights`; default all 1)."""
    labels = np.asarray(labels, dtype=np.float64)
    probabilities = np.asarray(probabilities, dtype=np.float64)
    weights = np.ones(len(labels)) if weights is None else np.asarray(weights, np.float64)
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(probabilities, edges[1:-1]), 0, bins - 1)
    error = 0.0
    for b in range(bins):
        mask = which == b
        if mask.any():
            w = weights[mask]
            error += w.sum() * abs(
                np.average(labels[mask], weights=w) - np.average(probabilities[mask], weights=w)
            )
    return float(error / weights.sum())


def band_rates(labels, probabilities, low: float, high: float) -> dict:
    """What an uncertain band [low, high) does with labelled items: the share left uncertain,
    and per class the shares called real (below `low`) and fake (from `high`)."""
    labels = np.asarray(labels)
    probabilities = np.asarray(probabilities, dtype=np.float64)
    called_real, called_fake = probabilities < low, probabilities >= high
    fakes, reals = labels == 1, labels == 0
    return {
        "uncertain_rate": float(np.mean(~called_real & ~called_fake)),
        "fakes_called_real": float(np.mean(called_real[fakes])),
        "reals_called_fake": float(np.mean(called_fake[reals])),
        "fakes_called_fake": float(np.mean(called_fake[fakes])),
        "reals_called_real": float(np.mean(called_real[reals])),
    }


def fit_platt(labels, raw_scores) -> tuple[float, float]:
    """(a, b) such that sigmoid(a * logit(raw) + b) is calibrated on these held-out scores."""
    return fit_platt_logits(labels, logit(raw_scores))


def fit_platt_logits(labels, logits, balanced: bool = False) -> tuple[float, float]:
    """(a, b) such that sigmoid(a * logit + b) is calibrated on these held-out logits;
    `balanced`: as if reals and fakes were equally many (see `balanced_weights`)."""
    labels = np.asarray(labels)
    if len(np.unique(labels)) < 2:
        return 1.0, 0.0
    model = LogisticRegression(C=1e4, class_weight="balanced" if balanced else None)
    model.fit(np.asarray(logits, dtype=np.float64).reshape(-1, 1), labels)
    return float(model.coef_[0, 0]), float(model.intercept_[0])


def summary(labels, probabilities, threshold: float) -> dict:
    return {
        "n": int(len(labels)),
        "n_fake": int(np.sum(labels)),
        "auc": auc(labels, probabilities),
        "auc_ci95": auc_interval(labels, probabilities),
        "accuracy": accuracy(labels, probabilities, threshold) if len(labels) else None,
        "ece": expected_calibration_error(labels, probabilities) if len(labels) else None,
    }
