import numpy as np
import pytest

from detection.pipeline.aggregate import frame_outcomes, video_probability, video_verdict
from detection.pipeline.spec import ModelSpec
from detection.pipeline.types import FaceBox, FaceCrop, SampledFrame

SPEC = ModelSpec(name="t", version="1", architecture="paper_cnn", weights_file="x.keras",
                 uncertain_low=0.3, uncertain_high=0.7)


def _frame(i):
    return SampledFrame(index=i, timestamp_s=i / 10, image=np.zeros((4, 4, 3), np.uint8))


def _crop(i):
    return FaceCrop(frame_index=i, timestamp_s=i / 10, box=FaceBox(0, 0, 2, 2),
                    image=np.zeros((2, 2, 3), np.uint8))


def test_a_frame_is_as_suspicious_as_its_most_suspicious_face():
    outcomes = frame_outcomes([_frame(0)], [_crop(0), _crop(0)], np.array([0.2, 0.9]), SPEC)
    assert outcomes[0].fake_probability == pytest.approx(0.9)


def test_the_video_probability_ignores_frames_without_faces():
    outcomes = frame_outcomes([_frame(0), _frame(1), _frame(2)], [_crop(0), _crop(2)],
                              np.array([0.8, 0.6]), SPEC)
    assert outcomes[1].fake_probability is None
    assert video_probability(outcomes) == pytest.approx(0.7)


def test_no_face_anywhere_is_its_own_verdict_not_a_score():
    outcomes = frame_outcomes([_frame(0), _frame(1)], [], np.array([]), SPEC)
    assert video_probability(outcomes) is None
    assert video_verdict(None, SPEC) == "no_face"


@pytest.mark.parametrize("p, verdict", [(0.0, "real"), (0.29, "real"), (0.3, "uncertain"),
                                        (0.69, "uncertain"), (0.7, "fake"), (1.0, "fake")])
def test_the_verdict_follows_the_uncertain_band(p, verdict):
    assert video_verdict(p, SPEC) == verdict


def test_calibration_maps_scores_monotonically_and_identity_by_default():
    assert SPEC.calibrate(0.73) == pytest.approx(0.73, abs=1e-6)
    spec = ModelSpec(name="t", version="1", architecture="a", weights_file="x",
                     calibration_a=2.0, calibration_b=-1.0)
    values = [spec.calibrate(r) for r in (0.01, 0.3, 0.5, 0.7, 0.99)]
    assert values == sorted(values) and all(0 < v < 1 for v in values)
    assert spec.calibrate(0.5) == pytest.approx(1 / (1 + np.exp(1.0)))
