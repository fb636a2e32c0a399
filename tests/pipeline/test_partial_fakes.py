"""A confident fake person or stretch, however brief, keeps a video from being cleared."""

import pytest

from detection.pipeline.types import VERDICT_REAL, VERDICT_UNCERTAIN

from .fused_results import fused_result, fused_spec

EVERY_FRAME = list(range(20))


def codes(result):
    return [r.code for r in result.reasons]


def test_a_real_video_is_cleared_with_no_reason():
    result = fused_result([{"frames": EVERY_FRAME, "logits": -4.0}])
    assert result.verdict == VERDICT_REAL
    assert result.reasons == ()
    assert result.persons[0].segments == ()


def test_a_brief_second_person_who_looks_fake_is_not_cleared():
    # The last 1.5 s show a second face, scored as confidently fake, in 3 of 20 frames.
    result = fused_result(
        [{"frames": EVERY_FRAME, "logits": -4.0}, {"frames": [17, 18, 19], "logits": 6.0}]
    )
    brief = result.persons[1]
    assert not brief.counts_for_video
    assert result.fake_probability < 0.3  # the video's own score would clear it
    assert result.verdict == VERDICT_UNCERTAIN
    assert codes(result) == ["brief_fake_person"]
    assert [(s.start_s, s.end_s) for s in brief.segments] == [(8.5, 9.5)]
    assert "Person 2" in result.reasons[0].message


def test_a_short_fake_stretch_of_one_person_is_not_cleared():
    logits = [-4.0] * 20
    logits[10:13] = [8.0, 8.0, 8.0]
    result = fused_result([{"frames": EVERY_FRAME, "logits": logits}])
    person = result.persons[0]
    assert person.counts_for_video
    assert result.fake_probability < 0.3
    assert result.verdict == VERDICT_UNCERTAIN
    assert codes(result) == ["fake_stretch"]
    assert [(s.start_s, s.end_s) for s in person.segments] == [(5.0, 6.0)]
    assert person.segments[0].probability > 0.95


def test_a_stretch_below_the_confident_level_is_not_a_segment():
    logits = [-4.0] * 20
    logits[10:13] = [1.0, 1.0, 1.0]  # p = sigmoid(2) = 0.88 < 0.95
    result = fused_result([{"frames": EVERY_FRAME, "logits": logits}])
    assert result.persons[0].segments == ()
    assert result.verdict == VERDICT_REAL


def test_each_branch_is_kept_as_evidence():
    result = fused_result([{"frames": EVERY_FRAME, "logits": -1.0}])
    branches = result.persons[0].branches
    assert branches["blend"]["logit"] == -1.0
    assert branches["synthesis"]["logit"] == -1.0
    assert abs(branches["fused"]["logit"] - (-2.0)) < 1e-9
    assert branches["contributions"] == {"blend": -1.0, "synthesis": -1.0}


def test_a_synthesis_head_on_features_no_version_serves_is_refused():
    with pytest.raises(ValueError, match="cannot be served"):
        fused_spec(synthesis={"features": "mid_imnet", "weights": [0.0] * 4, "bias": 0.0})
