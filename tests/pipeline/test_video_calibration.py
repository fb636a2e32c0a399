"""A model version's video calibration: people and videos get their own Platt scaling and band,
faces keep the face calibration; versions without one behave as before."""

import numpy as np
import pytest

from detection.pipeline.aggregate import (
    frame_outcomes,
    person_outcomes,
    video_logit,
    video_probability,
    video_verdict,
)
from detection.pipeline.spec import ModelSpec, sigmoid
from detection.pipeline.types import FaceBox, FaceCrop, SampledFrame


def _spec(**video):
    return ModelSpec(
        name="t",
        version="1",
        architecture="a",
        weights_file="x",
        calibration_a=0.5,
        calibration_b=-2.0,
        uncertain_low=0.3,
        uncertain_high=0.6,
        person_pooling="mean_logit",
        **video,
    )


VIDEO = dict(
    video_calibration_a=0.5,
    video_calibration_b=1.0,
    video_uncertain_low=0.25,
    video_uncertain_high=0.7,
)


def _result(spec, logits_by_person):
    """Frames with one face per person each; returns (frame outcomes, persons)."""
    n = max(len(v) for v in logits_by_person.values())
    frames = [
        SampledFrame(index=i, timestamp_s=i / 10, image=np.zeros((4, 4, 3), np.uint8))
        for i in range(n)
    ]
    crops, logits, people = [], [], []
    for person, values in logits_by_person.items():
        for i, z in enumerate(values):
            crops.append(
                FaceCrop(
                    frame_index=i,
                    timestamp_s=i / 10,
                    box=FaceBox(10 * person, 0, 2, 2),
                    image=np.zeros((2, 2, 3), np.uint8),
                )
            )
            logits.append(z)
            people.append(person)
    outcomes = frame_outcomes(frames, crops, np.asarray(logits), spec, people)
    return outcomes, person_outcomes(outcomes, spec)


def test_people_use_the_video_calibration_and_faces_the_face_calibration():
    outcomes, persons = _result(_spec(**VIDEO), {0: [-3.0, -1.0, 1.0]})
    assert persons[0].fake_probability == pytest.approx(sigmoid(0.5 * -1.0 + 1.0))
    assert persons[0].logit == pytest.approx(-1.0)
    face = outcomes[0].faces[0]
    assert face.fake_probability == pytest.approx(sigmoid(0.5 * -3.0 - 2.0))


def test_without_a_video_calibration_people_use_the_face_calibration_and_band():
    spec = _spec()
    _, persons = _result(spec, {0: [-3.0, -1.0, 1.0]})
    assert persons[0].fake_probability == pytest.approx(sigmoid(0.5 * -1.0 - 2.0))
    assert spec.video_band == (0.3, 0.6)
    assert video_verdict(0.59, spec) == "uncertain" and video_verdict(0.6, spec) == "fake"


def test_the_video_verdict_uses_the_video_band_and_a_face_verdict_the_face_band():
    spec = _spec(**VIDEO)
    assert [video_verdict(p, spec) for p in (0.2, 0.25, 0.65, 0.7)] == [
        "real",
        "uncertain",
        "uncertain",
        "fake",
    ]
    assert [spec.verdict_for(p) for p in (0.2, 0.3, 0.65)] == ["real", "uncertain", "fake"]


def test_the_video_follows_its_most_suspicious_person_and_its_logit_is_that_persons():
    spec = _spec(**VIDEO)
    _, persons = _result(spec, {0: [-4.0, -4.0, -4.0], 1: [2.0, 0.0, 1.0]})
    assert video_logit(persons) == pytest.approx(1.0)
    assert video_probability(persons) == pytest.approx(sigmoid(0.5 * 1.0 + 1.0))
    assert video_logit(()) is None


def test_a_video_calibration_travels_through_the_specs_dict():
    spec = _spec(**VIDEO)
    again = ModelSpec.from_dict(spec.to_dict())
    assert again == spec and again.has_video_calibration and again.video_band == (0.25, 0.7)


@pytest.mark.parametrize(
    "video, message",
    [
        (dict(video_calibration_a=0.5), "go together"),
        (dict(video_calibration_a=-0.5, video_calibration_b=0.0), "positive"),
        (dict(video_uncertain_low=0.2), "go together"),
        (dict(video_uncertain_low=0.8, video_uncertain_high=0.7), "0 <= low <= high <= 1"),
    ],
)
def test_an_inconsistent_video_calibration_is_refused(video, message):
    with pytest.raises(ValueError, match=message):
        _spec(**video)


def test_a_video_calibration_needs_mean_logit_pooling():
    with pytest.raises(ValueError, match="mean_logit"):
        ModelSpec(
            name="t",
            version="1",
            architecture="a",
            weights_file="x",
            person_pooling="mean_probability",
            video_calibration_a=1.0,
            video_calibration_b=0.0,
        )
