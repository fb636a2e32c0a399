"""`python -m detection.training calibrate-videos`: a class-balanced Platt scaling of labelled
videos' logits, judged leave-one-out, with a band chosen by error rates."""

import json

import numpy as np
import pytest

from detection.pipeline.spec import ModelSpec, sigmoid
from detection.training.evaluation import calibration as cv
from detection.training.evaluation import metrics


def _spec(**extra):
    return ModelSpec(
        name="m",
        version="1",
        architecture="a",
        weights_file="m.keras",
        calibration_a=0.4,
        calibration_b=-1.5,
        uncertain_low=0.3,
        uncertain_high=0.6,
        person_pooling="mean_logit",
        **extra,
    )


def _rows(n_real=20, n_fake=60, shift=2.0, seed=0, spec=None):
    """Fakes' logits `shift` above the reals' (overlapping), probabilities from the face
    calibration, as evaluate.analyse_videos writes them."""
    spec = spec or _spec()
    rng = np.random.default_rng(seed)
    rows = []
    for label, n, centre in ((0, n_real, -3.0), (1, n_fake, -3.0 + shift)):
        for z in rng.normal(centre, 1.5, n):
            rows.append(
                {
                    "label": label,
                    "logit": float(z),
                    "fake_probability": spec.calibrate_logit(z),
                    "verdict": "x",
                }
            )
    return rows


def test_the_fit_is_balanced_whatever_the_share_of_fakes():
    # Three fakes per real: an unweighted fit would push every probability up.
    rows = _rows(n_real=40, n_fake=120, shift=3.0)
    calibration = cv.fit(_spec(), rows)
    labels = np.array([r["label"] for r in rows])
    logits = np.array([r["logit"] for r in rows])
    p = sigmoid(calibration.a * logits + calibration.b)
    # Balanced: with reals and fakes weighted equally the mean probability is one half (a
    # logistic fit's intercept makes the weighted mean match the weighted share of fakes).
    weights = metrics.balanced_weights(labels)
    assert np.average(p, weights=weights) == pytest.approx(0.5, abs=1e-3)
    unweighted_a, unweighted_b = metrics.fit_platt_logits(labels, logits)
    unweighted = sigmoid(unweighted_a * logits + unweighted_b)
    assert np.mean(unweighted) == pytest.approx(0.75, abs=1e-3)  # the set's share of fakes
    assert metrics.expected_calibration_error(
        labels, p, weights=weights
    ) < metrics.expected_calibration_error(labels, unweighted, weights=weights)


def test_the_figures_are_leave_one_out_not_in_sample():
    rows = _rows(n_real=12, n_fake=12, shift=2.5, seed=3)
    labels = np.array([r["label"] for r in rows])
    logits = np.array([r["logit"] for r in rows])
    loo = cv.leave_one_out(labels, logits)
    a, b = metrics.fit_platt_logits(labels, logits, balanced=True)
    in_sample = sigmoid(a * logits + b)
    assert not np.allclose(loo, in_sample)
    # Each video's probability is the fit without it.
    keep = np.arange(len(rows)) != 5
    a5, b5 = metrics.fit_platt_logits(labels[keep], logits[keep], balanced=True)
    assert loo[5] == pytest.approx(sigmoid(a5 * logits[5] + b5))


def test_the_band_keeps_both_error_rates_within_their_limits():
    rng = np.random.default_rng(7)
    labels = np.array([0] * 30 + [1] * 50)
    probabilities = np.clip(
        np.where(labels == 1, rng.normal(0.65, 0.2, 80), rng.normal(0.35, 0.2, 80)), 0.001, 0.999
    )
    low, high = cv.error_rate_band(labels, probabilities, max_miss=0.1, max_false_flag=0.2)
    assert np.mean(probabilities[labels == 1] < low) <= 0.1
    assert np.mean(probabilities[labels == 0] >= high) <= 0.2
    # As wide as the limits allow: a step more lets one error too many through.
    assert np.mean(probabilities[labels == 1] < low + 0.02) > 0.1 or low + 0.02 > 1
    assert low < high


def test_a_band_for_classes_apart_leaves_nothing_uncertain():
    labels = np.array([0] * 10 + [1] * 10)
    probabilities = np.array([0.05] * 10 + [0.95] * 10)
    low, high = cv.error_rate_band(labels, probabilities, 0.1, 0.1)
    assert low == high and 0.05 < low < 0.95


def test_the_figures_before_and_after_are_on_the_same_videos():
    calibration = cv.fit(_spec(), _rows())
    assert calibration.n == 80 and calibration.n_fake == 60 and calibration.left_out == 0
    # The face calibration (b = -1.5) calls most of these fakes real; the video one does not.
    assert calibration.before["fakes_called_real"] > 0.5
    assert calibration.loo["fakes_called_real"] <= 0.1 + 1e-9
    assert calibration.loo["reals_called_fake"] <= 0.1 + 1e-9
    assert calibration.loo["balanced_ece"] < calibration.before["balanced_ece"]


def test_videos_without_a_face_are_left_out_and_counted():
    rows = _rows() + [{"label": 1, "logit": None, "fake_probability": None, "verdict": "no_face"}]
    assert cv.fit(_spec(), rows).left_out == 1


@pytest.mark.parametrize(
    "rows, spec, message",
    [
        (_rows(n_real=5), _spec(), "too few"),
        ([{k: v for k, v in r.items() if k != "logit"} for r in _rows()], _spec(), "no logits"),
        (_rows(shift=-4.0), _spec(), "do not rank fakes above reals"),
        (
            _rows(),
            ModelSpec(name="m", version="1", architecture="a", weights_file="x"),
            "mean logit",
        ),
    ],
)
def test_it_refuses_what_it_cannot_calibrate(rows, spec, message):
    with pytest.raises(ValueError, match=message):
        cv.fit(spec, rows)


def test_the_command_writes_the_calibration_into_the_spec_and_the_card(tmp_path, capsys):
    spec_path = tmp_path / "m.json"
    _spec().save(spec_path)
    report = tmp_path / "report.json"
    report.write_text(
        json.dumps(
            {
                "data": "videos/",
                "model": {"name": "m", "version": "1"},
                "videos": {"videos": _rows()},
            }
        )
    )
    assert cv.main(["--model", str(spec_path), "--report", str(report), "--write"]) == 0
    saved = ModelSpec.load(spec_path)
    assert saved.has_video_calibration
    low, high = saved.video_band
    assert (low, high) != (0.3, 0.6) and low < high
    assert saved.metrics["video_calibration"]["dir"] == "videos/"
    assert saved.metrics["video_calibration"]["n"] == 80
    card = (tmp_path / "m.md").read_text()
    assert "## Video calibration" in card and "leave-one-out" in card
    assert f"a video is fake if p >= {high}, real if p < {low}" in card
    assert "updated" in capsys.readouterr().out


def test_the_command_refuses_a_report_of_another_version(tmp_path):
    spec_path = tmp_path / "m.json"
    _spec().save(spec_path)
    report = tmp_path / "report.json"
    report.write_text(
        json.dumps({"model": {"name": "m", "version": "2"}, "videos": {"videos": _rows()}})
    )
    with pytest.raises(ValueError, match="not m v1"):
        cv.main(["--model", str(spec_path), "--report", str(report)])
