"""The AUC comes with a bootstrap interval: how far it could move on another draw of the same
size, so small validation sets (67 videos) are read for what they can tell apart."""

import numpy as np
import pytest

from detection.training.evaluation import metrics
from detection.training.report.model_card import auc_text


def test_the_interval_contains_the_auc_and_narrows_with_more_data():
    rng = np.random.default_rng(1)

    def draw(n):
        labels = np.r_[np.zeros(n), np.ones(n)]
        return labels, labels * 1.0 + rng.normal(0, 1.2, 2 * n)

    small, large = draw(30), draw(1000)
    lo_s, hi_s = metrics.auc_interval(*small)
    lo_l, hi_l = metrics.auc_interval(*large)
    assert lo_s < metrics.auc(*small) < hi_s and lo_l < metrics.auc(*large) < hi_l
    assert (hi_l - lo_l) < (hi_s - lo_s) / 3  # about 1/sqrt(33) as wide


def test_about_95_in_100_intervals_hold_the_true_auc():
    rng = np.random.default_rng(7)
    true_auc = 0.7222  # Phi(1 / (1.2 * sqrt(2))): normal scores 1 apart, sd 1.2
    held = 0
    for i in range(200):
        labels = np.r_[np.zeros(60), np.ones(60)]
        lo, hi = metrics.auc_interval(
            labels, labels + rng.normal(0, 1.2, 120), resamples=500, seed=i
        )
        held += lo <= true_auc <= hi
    assert 178 <= held <= 198  # 95% of 200 is 190; a percentile bootstrap runs a little low


def test_the_interval_matches_sklearns_auc_on_every_resample_size():
    labels = np.array([0, 0, 0, 1, 1, 1, 1])
    scores = np.array([0.1, 0.4, 0.4, 0.4, 0.8, 0.9, 0.3])  # ties across the classes
    lo, hi = metrics.auc_interval(labels, scores, resamples=4000, seed=3)
    assert 0.0 <= lo < metrics.auc(labels, scores) < hi <= 1.0
    # A perfect ranking stays perfect on every resample.
    assert metrics.auc_interval(labels, labels + 0.5) == (1.0, 1.0)


def test_one_class_has_no_interval_and_reports_carry_it():
    assert metrics.auc_interval([1, 1], [0.2, 0.3]) is None
    summary = metrics.summary(np.array([0, 1, 0, 1]), np.array([0.1, 0.9, 0.4, 0.6]), 0.5)
    assert summary["auc_ci95"] == (1.0, 1.0)
    assert auc_text({"auc": 0.806, "auc_ci95": [0.69, 0.91]}) == "0.806 (0.69-0.91)"
    assert auc_text({"auc": 0.806}) == "0.806" and auc_text({"auc": None}) == "n/a"


def test_the_resampled_aucs_centre_on_sklearns_auc_with_ties():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 200)
    scores = np.round(rng.normal(labels, 1.0), 1)  # many ties
    # level 0: both ends are the median of the resampled AUCs, which sits on the data's AUC
    # only if the rank formula scores ties as sklearn does.
    lo, hi = metrics.auc_interval(labels, scores, level=0.0, resamples=20000, seed=1)
    assert lo == hi == pytest.approx(metrics.auc(labels, scores), abs=0.005)


def test_a_paired_difference_tells_close_models_apart_where_their_intervals_overlap():
    rng = np.random.default_rng(5)
    labels = np.r_[np.zeros(40), np.ones(40)]
    base = labels + rng.normal(0, 1.0, 80)
    same = metrics.auc_difference(labels, base, base)
    assert same["difference"] == 0.0 and same["ci95"] == (0.0, 0.0)

    # A slightly better model that shares most of the reference's errors: the two intervals
    # overlap by far, the paired one says which is better.
    better = base + 0.4 * labels + rng.normal(0, 0.05, 80)
    d = metrics.auc_difference(labels, better, base)
    assert d["difference"] == pytest.approx(metrics.auc(labels, better) - metrics.auc(labels, base))
    lo, hi = d["ci95"]
    assert 0 < lo <= d["difference"] <= hi and d["share_below_zero"] < 0.025
    lo_b, hi_b = metrics.auc_interval(labels, better)
    lo_r, hi_r = metrics.auc_interval(labels, base)
    assert lo_b < hi_r  # their own intervals overlap
    assert hi - lo < (hi_r - lo_r) / 2

    # Unrelated noise around the same ranking: no direction.
    noisy = base + rng.normal(0, 0.3, 80)
    lo, hi = metrics.auc_difference(labels, noisy, base)["ci95"]
    assert lo < 0 < hi
    assert metrics.auc_difference([1, 1], [0.2, 0.3], [0.1, 0.4]) is None
