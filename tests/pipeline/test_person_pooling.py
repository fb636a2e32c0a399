"""A person's probability pools their faces as the model version says: the mean calibrated
probability, or the calibrated mean logit (log-odds add up the evidence of every frame)."""

import numpy as np
import pytest

from detection.pipeline.aggregate import frame_outcomes, person_outcomes
from detection.pipeline.spec import ModelSpec
from detection.pipeline.types import FaceBox, FaceCrop, SampledFrame


def _spec(pooling, a=1.0, b=0.0):
    return ModelSpec(
        name="t",
        version="1",
        architecture="a",
        weights_file="x",
        calibration_a=a,
        calibration_b=b,
        person_pooling=pooling,
    )


def _person(logits, spec):
    frames = [
        SampledFrame(index=i, timestamp_s=i / 10, image=np.zeros((4, 4, 3), np.uint8))
        for i in range(len(logits))
    ]
    crops = [
        FaceCrop(
            frame_index=i,
            timestamp_s=i / 10,
            box=FaceBox(0, 0, 2, 2),
            image=np.zeros((2, 2, 3), np.uint8),
        )
        for i in range(len(logits))
    ]
    return person_outcomes(frame_outcomes(frames, crops, np.asarray(logits), spec), spec)[0]


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def test_mean_logit_pooling_calibrates_the_mean_log_odds():
    spec = _spec("mean_logit", a=0.5, b=-1.0)
    person = _person([4.0, -2.0, 1.0], spec)
    assert person.fake_probability == pytest.approx(_sigmoid(0.5 * 1.0 - 1.0))


def test_mean_probability_pooling_averages_the_calibrated_probabilities():
    spec = _spec("mean_probability", a=0.5, b=-1.0)
    person = _person([4.0, -2.0, 1.0], spec)
    expected = np.mean([_sigmoid(0.5 * z - 1.0) for z in (4.0, -2.0, 1.0)])
    assert person.fake_probability == pytest.approx(expected)


def test_the_two_poolings_differ_when_frames_disagree():
    # Two confident fake frames and one mildly real one: log-odds keep the confidence that a
    # capped average of probabilities flattens.
    logits = [6.0, 6.0, -1.0]
    assert (
        _person(logits, _spec("mean_logit")).fake_probability
        > _person(logits, _spec("mean_probability")).fake_probability
    )


def test_confident_faces_do_not_tie_after_calibration():
    # Logits past float32's sigmoid saturation (about 17) stay ordered.
    spec = _spec("mean_logit", a=0.35, b=-1.7)
    probabilities = [spec.calibrate_logit(z) for z in (18.0, 22.0, 30.0)]
    assert probabilities == sorted(probabilities) and len(set(probabilities)) == 3


def test_an_unknown_pooling_is_refused():
    with pytest.raises(ValueError, match="person_pooling"):
        _spec("max")
