"""The one sigmoid and logit pair that serving, calibration and evaluation share."""

import numpy as np
import pytest

from detection.pipeline.spec import RAW_EPS, ModelSpec, logit, sigmoid
from detection.training.evaluation.metrics import fit_platt, fit_platt_logits


def test_numbers_in_numbers_out_and_arrays_in_arrays_out():
    assert isinstance(sigmoid(0.0), float) and sigmoid(0.0) == 0.5
    assert isinstance(logit(0.5), float) and logit(0.5) == 0.0
    z = np.array([-3.0, 0.0, 2.5])
    assert isinstance(sigmoid(z), np.ndarray)
    np.testing.assert_allclose(logit(sigmoid(z)), z, atol=1e-12)


def test_sigmoid_has_no_overflow_at_extreme_logits():
    with np.errstate(over="raise"):
        out = sigmoid(np.array([-1000.0, -40.0, 40.0, 1000.0]))
    assert out[0] == 0.0 and out[-1] == 1.0
    assert 0.0 < out[1] < 1e-17 and 1.0 - 1e-15 < out[2] <= 1.0
    assert sigmoid(-1000.0) == 0.0


def test_logit_clips_certainties_to_the_same_bound_for_arrays_and_numbers():
    bound = np.log((1 - RAW_EPS) / RAW_EPS)
    assert logit(1.0) == pytest.approx(bound)
    assert logit(0.0) == pytest.approx(-bound)
    np.testing.assert_allclose(logit(np.array([0.0, 1.0])), [-bound, bound])


def test_calibration_is_fitted_on_the_logits_it_is_served_with():
    # Raw scores at float32's ceiling: the fit must clip them as serving does, or the
    # calibration is fitted to other numbers than those it is later applied to.
    rng = np.random.default_rng(0)
    raw = np.concatenate([rng.uniform(0.0, 0.6, 200), np.full(50, 1.0), rng.uniform(0.4, 1.0, 150)])
    labels = np.concatenate([np.zeros(200), np.ones(200)]).astype(int)
    served = [
        ModelSpec(
            name="m",
            version="1",
            architecture="paper_cnn",
            weights_file="m.keras",
            input_size=64,
            channels=1,
        ).calibrate(r)
        for r in raw
    ]  # identity calibration
    assert fit_platt(labels, raw) == pytest.approx(
        fit_platt_logits(labels, logit(np.array(served)))
    )
    assert fit_platt(labels, raw) == pytest.approx(
        fit_platt_logits(labels, [logit(float(r)) for r in raw])
    )
