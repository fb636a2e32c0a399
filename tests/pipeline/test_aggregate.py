import numpy as np
import pytest

from detection.pipeline.aggregate import (
    frame_outcomes,
    person_outcomes,
    video_probability,
    video_verdict,
)
from detection.pipeline.spec import ModelSpec, logit
from detection.pipeline.types import FaceBox, FaceCrop, SampledFrame

SPEC = ModelSpec(
    name="t",
    version="1",
    architecture="paper_cnn",
    weights_file="x.keras",
    uncertain_low=0.3,
    uncertain_high=0.7,
)


def _z(*probabilities):
    """The logits the classifier would return for these raw scores."""
    return np.array([logit(p) for p in probabilities])


def _frame(i):
    return SampledFrame(index=i, timestamp_s=i / 10, image=np.zeros((4, 4, 3), np.uint8))


def _crop(i, x=0, size=2):
    return FaceCrop(
        frame_index=i,
        timestamp_s=i / 10,
        box=FaceBox(x, 0, size, size),
        image=np.zeros((2, 2, 3), np.uint8),
    )


def test_a_frame_is_as_suspicious_as_its_most_suspicious_face():
    outcomes = frame_outcomes([_frame(0)], [_crop(0), _crop(0)], _z(0.2, 0.9), SPEC)
    assert outcomes[0].fake_probability == pytest.approx(0.9)


def test_a_persons_probability_is_the_mean_over_their_faces_ignoring_faceless_frames():
    outcomes = frame_outcomes(
        [_frame(0), _frame(1), _frame(2)], [_crop(0), _crop(2)], _z(0.8, 0.6), SPEC, people=[0, 0]
    )
    assert outcomes[1].fake_probability is None
    persons = person_outcomes(outcomes, SPEC)
    assert [(p.index, p.frames_seen) for p in persons] == [(0, 2)]
    assert video_probability(persons) == pytest.approx(0.7)


def test_the_video_follows_its_most_suspicious_person_not_an_average():
    frames = [_frame(i) for i in range(4)]
    crops = [c for i in range(4) for c in (_crop(i, x=0), _crop(i, x=100))]
    scores = _z(*[0.1, 0.9] * 4)  # person 0 looks real, person 1 fake, in every frame
    persons = person_outcomes(frame_outcomes(frames, crops, scores, SPEC, people=[0, 1] * 4), SPEC)
    assert [round(p.fake_probability, 3) for p in persons] == [0.1, 0.9]
    assert video_probability(persons) == pytest.approx(0.9)


def test_a_face_seen_once_does_not_decide_the_video_when_a_person_is_seen_throughout():
    frames = [_frame(i) for i in range(10)]
    crops = [_crop(i) for i in range(10)] + [_crop(5, x=200)]
    crops.sort(key=lambda c: c.frame_index)
    people = [1 if c.box.x == 200 else 0 for c in crops]
    scores = _z(*[0.99 if c.box.x == 200 else 0.2 for c in crops])
    persons = person_outcomes(frame_outcomes(frames, crops, scores, SPEC, people=people), SPEC)
    flash = next(p for p in persons if p.index == 1)
    assert not flash.counts_for_video and flash.frames_seen == 1
    assert video_probability(persons) == pytest.approx(0.2)


def test_the_representative_crop_is_the_largest_view():
    crops = [_crop(0, size=2), _crop(1, size=5)]
    persons = person_outcomes(
        frame_outcomes([_frame(0), _frame(1)], crops, _z(0.5, 0.5), SPEC, people=[0, 0]), SPEC
    )
    assert persons[0].representative.frame_index == 1


def test_no_face_anywhere_is_its_own_verdict_not_a_score():
    outcomes = frame_outcomes([_frame(0), _frame(1)], [], np.array([]), SPEC)
    assert person_outcomes(outcomes, SPEC) == ()
    assert video_probability(()) is None
    assert video_verdict(None, SPEC) == "no_face"


@pytest.mark.parametrize(
    "p, verdict",
    [
        (0.0, "real"),
        (0.29, "real"),
        (0.3, "uncertain"),
        (0.69, "uncertain"),
        (0.7, "fake"),
        (1.0, "fake"),
    ],
)
def test_the_verdict_follows_the_uncertain_band(p, verdict):
    assert video_verdict(p, SPEC) == verdict


def test_calibration_maps_scores_monotonically_and_identity_by_default():
    assert SPEC.calibrate(0.73) == pytest.approx(0.73, abs=1e-6)
    spec = ModelSpec(
        name="t",
        version="1",
        architecture="a",
        weights_file="x",
        calibration_a=2.0,
        calibration_b=-1.0,
    )
    values = [spec.calibrate(r) for r in (0.01, 0.3, 0.5, 0.7, 0.99)]
    assert values == sorted(values) and all(0 < v < 1 for v in values)
    assert spec.calibrate(0.5) == pytest.approx(1 / (1 + np.exp(1.0)))


def test_each_face_keeps_its_logit_and_its_raw_score_is_the_sigmoid_of_it():
    outcomes = frame_outcomes([_frame(0)], [_crop(0)], np.array([2.0]), SPEC)
    face = outcomes[0].faces[0]
    assert face.logit == 2.0
    assert face.raw_score == pytest.approx(1 / (1 + np.exp(-2.0)))
