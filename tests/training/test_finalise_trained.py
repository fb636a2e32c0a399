"""Weights trained on another machine (an accelerator run of `parallel_train`) are calibrated on
the held-out faces here, evaluated, and written as a model version with its training record."""

import json

import pytest
from django.core.management import CommandError, call_command

from detection.pipeline import Analyser
from tests import media

pytestmark = pytest.mark.slow


@pytest.fixture
def faces(tmp_path):
    media.labelled_faces(tmp_path / "labelled")
    return tmp_path


def _command(faces, *extra):
    call_command(
        "train_detector",
        "--architecture",
        "efficientnet_lite0",
        "--train-dir",
        str(faces / "labelled"),
        "--real-pools",
        "--no-videos",
        "--input-size",
        "64",
        "--out",
        str(faces / "out"),
        "--name",
        "elsewhere",
        "--model-version",
        "3",
        *extra,
        verbosity=0,
    )


def test_weights_trained_elsewhere_are_calibrated_and_recorded(faces, clips):
    from detection.training.recipes.architectures import build

    weights = faces / "trained.keras"
    build("efficientnet_lite0", 64, 3).save(weights)
    record = faces / "trained.json"
    record.write_text(
        json.dumps(
            {
                "backend": "jax",
                "samples_seen": 1234,
                "config": {
                    "batch_size": 256,
                    "learning_rate": 5e-4,
                    "freeze_blocks": 0,
                    "init_weights": "None",
                    "warmup_fraction": 0.05,
                    "final_lr_fraction": 0.02,
                },
            }
        )
    )
    _command(faces, "--trained-weights", str(weights), "--training-record", str(record))
    spec = json.loads((faces / "out" / "elsewhere_v3.json").read_text())
    training = spec["metrics"]["training"]
    assert training["weights_trained_elsewhere"] == "trained.keras"
    assert training["backend"] == "jax" and training["samples_seen"] == 1234
    # The run's settings are lifted out of its record for the model card.
    assert training["batch_size"] == 256 and training["learning_rate"] == 5e-4
    assert "init_weights" not in training
    assert training["schedule"].startswith("linear warm-up over 5% of the time budget")
    card = (faces / "out" / "elsewhere_v3.md").read_text()
    assert "1234 samples" in card and "batch 256" in card
    # One of the 8 reals is held out (10%, at least one): it and one fake made from it.
    assert training["images_calibration"] == 2
    assert spec["calibration_a"] != 1.0 or spec["calibration_b"] != 0.0  # a Platt fit was made
    result = Analyser.from_spec_file(faces / "out" / "elsewhere_v3.json").analyse(clips["face"])
    assert result.frames_with_face >= 28 and 0.0 <= result.fake_probability <= 1.0


def test_a_missing_weights_file_is_a_clear_error(faces):
    with pytest.raises(CommandError, match="No such weights file"):
        _command(faces, "--trained-weights", str(faces / "nowhere.keras"))


def test_a_new_serving_of_weights_already_shipped_names_them_and_calibrates_as_it_serves(faces):
    """A version that serves another version's weights differently (mirror view, log-odds
    pooling) names the weights file it shares instead of writing a copy, and its calibration
    is fitted on the logits it will serve."""
    from detection.pipeline.spec import ModelSpec
    from detection.training.recipes.architectures import build

    out = faces / "out"
    out.mkdir()
    shipped = out / "elsewhere_v2.keras"
    build("efficientnet_lite0", 64, 3).save(shipped)
    before = shipped.read_bytes()
    record = faces / "v2.json"
    record.write_text(json.dumps({"trained_at": "2026-11-26T01:57:29+00:00"}))
    _command(
        faces,
        "--trained-weights",
        str(shipped),
        "--training-record",
        str(record),
        "--test-time-flip",
        "--person-pooling",
        "mean_logit",
    )
    spec = ModelSpec.load(out / "elsewhere_v3.json")
    assert spec.trained_at == "2026-11-26T01:57:29+00:00"  # when the weights were trained
    assert spec.weights_file == "elsewhere_v2.keras"
    assert not (out / "elsewhere_v3.keras").exists() and shipped.read_bytes() == before
    assert spec.test_time_flip and spec.person_pooling == "mean_logit"
    assert "mirror image, logits averaged" in (out / "elsewhere_v3.md").read_text()
    assert spec.metrics["training"]["images_calibration"] == 2
    assert spec.calibration_a != 1.0 or spec.calibration_b != 0.0  # a Platt fit was made


def test_weights_from_a_pack_split_by_position_are_refused(faces):
    from django.core.management.base import CommandError

    from detection.training.recipes.architectures import build

    weights = faces / "old.keras"
    build("efficientnet_lite0", 64, 3).save(weights)
    record = faces / "old.json"
    record.write_text(json.dumps({"pack": {"seed": 1234, "calibration_fraction": 0.1}}))
    spec = faces / "out" / "elsewhere_v3.json"
    before = spec.stat().st_mtime_ns if spec.exists() else None
    with pytest.raises(CommandError, match="chosen by position"):
        _command(faces, "--trained-weights", str(weights), "--training-record", str(record))
    assert (spec.stat().st_mtime_ns if spec.exists() else None) == before  # nothing written


def test_weights_from_a_pack_with_a_listing_are_not_calibrated_on_another_split(faces):
    """A pack that held out a listing's faces trained on some of the faces the by-file split
    would calibrate on: finalising must use the same listing."""
    from detection.training.recipes.architectures import build

    weights = faces / "trained.keras"
    build("efficientnet_lite0", 64, 3).save(weights)
    record = faces / "trained.json"
    record.write_text(
        json.dumps(
            {"pack": {"held_out_split": "by_file", "held_out_keys": "lite0_sbi_v2.held_out.json"}}
        )
    )
    with pytest.raises(CommandError, match="--held-out-keys lite0_sbi_v2.held_out.json"):
        _command(faces, "--trained-weights", str(weights), "--training-record", str(record))
