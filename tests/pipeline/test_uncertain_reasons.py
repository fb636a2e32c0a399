"""Input unlike the training data makes the verdict uncertain, with the reason in words."""

from detection.pipeline.types import REASON_CODES, VERDICT_FAKE, VERDICT_REAL, VERDICT_UNCERTAIN

from .fused_results import FEATURES, fused_result

EVERY_FRAME = list(range(20))


def codes(result):
    return [r.code for r in result.reasons]


def test_faces_too_small_to_judge_are_uncertain():
    result = fused_result([{"frames": EVERY_FRAME, "logits": -4.0, "box": (10, 10, 30)}])
    assert result.verdict == VERDICT_UNCERTAIN
    assert codes(result) == ["small_faces"]
    assert "30 px" in result.reasons[0].message


def test_heavier_compression_than_training_is_uncertain_even_for_a_confident_fake():
    # 10 s of 640x360 at 25 fps in 5 kB: 0.0007 bits per pixel, under the 0.001 floor.
    result = fused_result([{"frames": EVERY_FRAME, "logits": 5.0}], size_bytes=5_000)
    assert result.verdict == VERDICT_UNCERTAIN
    assert codes(result) == ["heavy_compression"]


def test_faces_far_from_every_training_source_are_uncertain():
    far = [10.0] * FEATURES
    result = fused_result([{"frames": EVERY_FRAME, "logits": -4.0, "features": far}])
    assert result.verdict == VERDICT_UNCERTAIN
    assert codes(result) == ["unfamiliar_source"]
    assert result.persons[0].branches["outlier_distance"] == 10.0


def test_familiar_input_keeps_its_verdict():
    assert fused_result([{"frames": EVERY_FRAME, "logits": 5.0}]).verdict == VERDICT_FAKE
    assert fused_result([{"frames": EVERY_FRAME, "logits": -5.0}]).verdict == VERDICT_REAL


def test_every_code_a_result_can_carry_is_documented():
    results = [
        fused_result([{"frames": EVERY_FRAME, "logits": -4.0, "box": (10, 10, 30)}]),
        fused_result([{"frames": EVERY_FRAME, "logits": 5.0}], size_bytes=5_000),
        fused_result([{"frames": EVERY_FRAME, "logits": -4.0, "features": [10.0] * FEATURES}]),
        fused_result(
            [{"frames": EVERY_FRAME, "logits": -4.0}, {"frames": [17, 18, 19], "logits": 6.0}]
        ),
        fused_result([{"frames": EVERY_FRAME, "logits": [-4.0] * 10 + [8.0] * 3 + [-4.0] * 7}]),
    ]
    seen = {r.code for result in results for r in result.reasons}
    assert seen == set(REASON_CODES)
