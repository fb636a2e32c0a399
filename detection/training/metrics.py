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


def auc_interval(labels, scores, level: float = 0.95, resamples: int = 2000,
                 seed: int = 0) -> tuple[float, float] | None:
    """A bootstrap percentile interval for the AUC: reals and fakes are resampled separately
    (each resample keeps both class counts), so the interval says how far the figure could
    move on another draw of the same size. On 67 videos it spans about 0.2: two models 0.01
    apart there are not told apart."""
    from scipy.stats import rankdata

    labels = np.asarray(labels).astype(int)
    scores = np.asarray(scores, dtype=np.float64)
    pos, neg = scores[labels == 1], scores[labels == 0]
    if not len(pos) or not len(neg):
        return None
    rng = np.random.default_rng(seed)
    p = pos[rng.integers(0, len(pos), (resamples, len(pos)))]
    n = neg[rng.integers(0, len(neg), (resamples, len(neg)))]
    # AUC from ranks (ties share their mean rank), one resample per row.
    ranks = rankdata(np.concatenate([p, n], axis=1), axis=1)
    u = ranks[:, :len(pos)].sum(axis=1) - len(pos) * (len(pos) + 1) / 2
    aucs = u / (len(pos) * len(neg))
    tail = (1 - level) / 2
    return float(np.quantile(aucs, tail)), float(np.quantile(aucs, 1 - tail))


def accuracy(labels, probabilities, threshold: float) -> float:
    labels = np.asarray(labels)
    return float(np.mean((np.asarray(probabilities) >= threshold).astype(int) == labels))


def expected_calibration_error(labels, probabilities, bins: int = 10) -> float:
    """Weighted mean |observed fake rate - mean predicted probability| over equal-width bins."""
    labels = np.asarray(labels, dtype=np.float64)
    probabilities = np.asarray(probabilities, dtype=np.float64)
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(probabilities, edges[1:-1]), 0, bins - 1)
    error = 0.0
    for b in range(bins):
        mask = which == b
        if mask.any():
            error += mask.mean() * abs(labels[mask].mean() - probabilities[mask].mean())
    return float(error)


def fit_platt(labels, raw_scores) -> tuple[float, float]:
    """(a, b) such that sigmoid(a * logit(raw) + b) is calibrated on these held-out scores."""
    return fit_platt_logits(labels, logit(raw_scores))


def fit_platt_logits(labels, logits) -> tuple[float, float]:
    """(a, b) such that sigmoid(a * logit + b) is calibrated on these held-out logits."""
    labels = np.asarray(labels)
    if len(np.unique(labels)) < 2:
        return 1.0, 0.0
    model = LogisticRegression(C=1e4)
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
