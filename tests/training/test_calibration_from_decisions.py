"""A version's video mapping and band refitted on moderators' decisions
(`detection.training.evaluation.decisions`): an exact composition into the version's own
parameters, judged leave-one-out, with the band chosen by error rates."""

from dataclasses import replace
from statistics import NormalDist

import numpy as np
import pytest

from detection.pipeline.fusion import FusionSpec, PersonFaces
from detection.pipeline.spec import ModelSpec, logit, sigmoid
from detection.training.evaluation import decisions, metrics
from detection.training.evaluation.calibration import band_figures
from tests.pipeline.fused_results import fused_result, fused_spec

# The generated site: a person's mean logit z is N(0.75, 1) for fakes and N(-1.25, 1) for
# reals, so with as many reals as fakes the true probability of a fake is
# q = sigmoid(2 z + 0.5) (the log ratio of the two densities). The version's stored p is
# sigmoid(z): over-confident on reals, under-confident on fakes.
TRUE_A, TRUE_B = 2.0, 0.5
FAKE_MEAN, REAL_MEAN = 0.75, -1.25


def _spec(**extra) -> ModelSpec:
    fields = dict(
        name="m",
        version="3",
        architecture="a",
        weights_file="m.keras",
        calibration_a=0.4,
        calibration_b=-1.5,
        person_pooling="mean_logit",
        video_calibration_a=1.0,
        video_calibration_b=0.0,
        video_uncertain_low=0.2,
        video_uncertain_high=0.8,
    )
    return ModelSpec(**{**fields, **extra})


def _site(n_fake=200, n_real=200):
    """(labels, z): each class's logits at evenly spaced quantiles of its normal."""
    unit = NormalDist()

    def quantiles(n):
        return np.array([unit.inv_cdf((i + 0.5) / n) for i in range(n)])

    z = np.concatenate([FAKE_MEAN + quantiles(n_fake), REAL_MEAN + quantiles(n_real)])
    return np.array([1] * n_fake + [0] * n_real), z


def _known_band(max_miss, max_false_flag):
    """The band the true probabilities give: `max_miss` of the fakes below `low`,
    `max_false_flag` of the reals from `high`."""
    unit = NormalDist()
    low = sigmoid(TRUE_A * (FAKE_MEAN + unit.inv_cdf(max_miss)) + TRUE_B)
    high = sigmoid(TRUE_A * (REAL_MEAN + unit.inv_cdf(1 - max_false_flag)) + TRUE_B)
    return low, high


@pytest.mark.parametrize(
    "n_fake, n_real, max_miss, max_false_flag",
    [(200, 200, 0.1, 0.1), (100, 300, 0.1, 0.1), (200, 200, 0.05, 0.2)],
)
def test_it_recovers_a_known_calibration_and_band(n_fake, n_real, max_miss, max_false_flag):
    labels, z = _site(n_fake, n_real)
    spec = _spec()
    stored = np.array([spec.calibrate_person_logit(v) for v in z])
    fit = decisions.fit_from_decisions(
        spec, labels, stored, max_miss=max_miss, max_false_flag=max_false_flag
    )
    # Class-balanced: three reals per fake (the second case) recover the same mapping.
    assert fit.changes["video_calibration_a"] == pytest.approx(TRUE_A, abs=0.05)
    assert fit.changes["video_calibration_b"] == pytest.approx(TRUE_B, abs=0.05)
    low, high = _known_band(max_miss, max_false_flag)
    assert fit.changes["video_uncertain_low"] == pytest.approx(low, abs=0.015)
    assert fit.changes["video_uncertain_high"] == pytest.approx(high, abs=0.015)
    assert (fit.low, fit.high) == (
        fit.changes["video_uncertain_low"],
        fit.changes["video_uncertain_high"],
    )
    # The old band (0.2-0.8) on the stored scores left most of both classes uncertain.
    assert fit.before["uncertain_rate"] > 0.5 > fit.loo["uncertain_rate"]
    assert fit.loo["fakes_called_real"] <= max_miss + 1e-9
    assert fit.loo["reals_called_fake"] <= max_false_flag + 1e-9
    assert fit.loo["balanced_ece"] < fit.before["balanced_ece"]


def test_the_new_version_gives_each_video_the_refitted_probability():
    labels, z = _site()
    spec = _spec(video_calibration_a=0.5, video_calibration_b=-1.0)
    stored = np.array([spec.calibrate_person_logit(v) for v in z])
    fit = decisions.fit_from_decisions(spec, labels, stored)
    new = replace(spec, **fit.changes)
    for v in (-4.0, -1.0, 0.0, 0.3, 2.5):
        expected = sigmoid(fit.a2 * logit(spec.calibrate_person_logit(v)) + fit.b2)
        assert new.calibrate_person_logit(v) == pytest.approx(expected, abs=1e-12)
    # Refitting its own p = sigmoid(0.5 z - 1) recovers the same truth: a' = 2, b' = 0.5.
    assert new.video_calibration_a == pytest.approx(TRUE_A, abs=0.05)
    assert new.video_calibration_b == pytest.approx(TRUE_B, abs=0.05)


def test_a_mean_logit_version_without_a_video_calibration_gets_one_from_its_face_calibration():
    spec = _spec(
        video_calibration_a=None,
        video_calibration_b=None,
        video_uncertain_low=None,
        video_uncertain_high=None,
    )
    changes = decisions.compose(spec, 1.5, -0.25)
    new = replace(spec, **changes)
    assert new.has_video_calibration
    for v in (-3.0, 0.0, 1.7):
        expected = sigmoid(1.5 * logit(spec.calibrate_person_logit(v)) - 0.25)
        assert new.calibrate_person_logit(v) == pytest.approx(expected, abs=1e-12)
    # Faces keep their own calibration.
    assert (new.calibration_a, new.calibration_b) == (spec.calibration_a, spec.calibration_b)


def _faces(blend, synthesis):
    n = len(blend)
    return PersonFaces(
        blend=np.asarray(blend, float),
        synthesis=np.asarray(synthesis, float),
        timestamps=np.arange(n) * 0.5,
        boxes=np.tile([0.0, 0.0, 100.0, 100.0], (n, 1)),
        face_px=np.full(n, 100.0),
        frame_side=360.0,
    )


def test_a_fused_version_is_composed_into_its_combiner_and_stretch_cut():
    spec = fused_spec(
        combiner={"inputs": ["blend", "synthesis"], "weights": [0.8, 0.3], "bias": -0.4}
    )
    a2, b2 = 1.7, 0.35
    new = replace(spec, **decisions.compose(spec, a2, b2))
    old_fusion, new_fusion = spec.fusion_spec, new.fusion_spec
    for blend, synth in (
        ([1.0, -2.0, 0.5], [0.2, 0.1, 3.0]),
        ([-3.0], [-1.0]),
        ([4.0] * 5, [2.0] * 5),
    ):
        faces = _faces(blend, synth)
        expected = sigmoid(a2 * logit(old_fusion.combiner.probability(faces)) + b2)
        assert new_fusion.combiner.probability(faces) == pytest.approx(expected, abs=1e-12)
    assert new_fusion.stretch_fake_from == pytest.approx(sigmoid(a2 * logit(0.95) + b2))
    # What is not the video mapping is untouched.
    assert (
        new_fusion.synthesis == old_fusion.synthesis and new_fusion.branches == old_fusion.branches
    )
    assert spec.fusion["combiner"]["weights"] == [0.8, 0.3]  # the parent's spec is not changed
    FusionSpec.validate(new.fusion)


def test_a_fused_video_keeps_its_fake_stretches_under_the_new_mapping():
    a2, b2 = 0.6, -0.8
    spec = fused_spec(stretch_fake_from=0.9)
    new = replace(spec, **decisions.compose(spec, a2, b2), video_uncertain_high=0.99)
    # The combiner's logit is blend + synthesis, both branches here at 2 on frames 8-10 (a
    # stretch at p 0.98 from 0.9) and at -1 elsewhere.
    people = [{"frames": list(range(20)), "logits": [-1.0] * 8 + [2.0] * 3 + [-1.0] * 9}]
    before = fused_result(people, spec=replace(spec, video_uncertain_high=0.99))
    after = fused_result(people, spec=new)
    assert after.fake_probability == pytest.approx(
        sigmoid(a2 * logit(before.fake_probability) + b2), abs=1e-12
    )
    stretches = [(s.start_s, s.end_s) for p in before.persons for s in p.segments]
    assert stretches and stretches == [
        (s.start_s, s.end_s) for p in after.persons for s in p.segments
    ]


@pytest.mark.parametrize("cut", [0.3, 0.95])
def test_a_fused_versions_stretch_cut_follows_the_map_but_never_falls_below_the_new_band(cut):
    labels, z = _site()
    spec = fused_spec(stretch_fake_from=cut)
    fit = decisions.fit_from_decisions(spec, labels, sigmoid(z))
    moved = sigmoid(fit.a2 * logit(cut) + fit.b2)
    # 0.3 maps to about 0.23, under the new band's top (about 0.64): the cut stops there.
    assert fit.changes["fusion"]["stretch_fake_from"] == pytest.approx(max(moved, fit.high))
    assert (moved < fit.high) == (cut == 0.3)


def test_a_version_pooling_by_mean_probability_is_refused():
    spec = ModelSpec(name="m", version="1", architecture="a", weights_file="x")
    labels, z = _site()
    with pytest.raises(ValueError, match="mean probability"):
        decisions.fit_from_decisions(spec, labels, sigmoid(z))


def test_too_few_decisions_of_either_class_are_refused_with_the_counts():
    labels, z = _site(n_fake=9, n_real=50)
    with pytest.raises(ValueError, match="9 confirmed fake and 50 judged real \\(4 without"):
        decisions.fit_from_decisions(_spec(), labels, sigmoid(z), left_out=4)
    # The minimum is the caller's to set.
    fit = decisions.fit_from_decisions(_spec(), labels, sigmoid(z), min_per_class=9)
    assert fit.n == 59 and fit.n_fake == 9


def test_decisions_that_rank_reals_above_fakes_are_refused():
    labels, z = _site()
    with pytest.raises(ValueError, match="do not rank confirmed fakes above judged reals"):
        decisions.fit_from_decisions(_spec(), 1 - labels, sigmoid(z))


def test_the_figures_are_leave_one_out_and_the_auc_is_the_stored_scores():
    labels, z = _site(30, 30)
    rng = np.random.default_rng(0)
    z = z + rng.normal(0, 0.5, len(z))  # not every quantile in order
    spec = _spec()
    stored = sigmoid(z)
    fit = decisions.fit_from_decisions(spec, labels, stored, left_out=3)
    in_sample = sigmoid(fit.a2 * z + fit.b2)
    assert fit.loo != band_figures(labels, in_sample, fit.low, fit.high)
    assert fit.before == band_figures(labels, stored, 0.2, 0.8)
    assert fit.auc == pytest.approx(metrics.auc(labels, in_sample))
    stored_figures = fit.as_metrics("2026-12-07")
    assert stored_figures["left_out"] == 3
    assert (stored_figures["n"], stored_figures["n_fake"]) == (60, 30)
    assert stored_figures["band"] == [fit.low, fit.high]
    assert stored_figures["before_band"] == [0.2, 0.8]
    assert stored_figures["date"] == "2026-12-07" and "changes" not in stored_figures
    printed = decisions.describe(fit)
    assert "60 decided items (30 confirmed fake, 30 judged real), 3 without a face" in printed
    assert f"fake from {fit.high}" in printed and "leave-one-out" in printed
