"""The LiteRT conversion serves the same scores as the Keras model, faster."""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from django.conf import settings
from django.core.management import call_command

from detection.pipeline.classify import (
    KerasFaceClassifier,
    LiteRTFaceClassifier,
    file_sha256,
    make_classifier,
)
from detection.pipeline.decode import sample_frames
from detection.pipeline.errors import ModelLoadError
from detection.pipeline.faces import find_faces, make_detector
from detection.pipeline.spec import ModelSpec
from detection.pipeline.types import AnalysisConfig
from tests import media

SPEC_PATH = Path(settings.DETECTION_DEFAULT_MODEL_SPEC)


@pytest.fixture(scope="module")
def shipped():
    spec = ModelSpec.load(SPEC_PATH)
    return spec, spec.weights_path(SPEC_PATH)


@pytest.fixture(scope="module")
def real_crops(clips, shipped):
    spec, _ = shipped
    config = AnalysisConfig(frames_to_sample=12)
    _, frames = sample_frames(clips["face"], config)
    crops = [
        c.image for c in find_faces(frames, make_detector("blazeface", config), spec.face_margin)
    ]
    assert len(crops) >= 10  # the clip shows one face in every frame
    # Off-centre and scaled crops of the photo too, so the scores spread over a range.
    image = media.face_image()
    rng = np.random.default_rng(3)
    for _ in range(20):
        size = int(rng.integers(40, 300))
        y, x = (int(v) for v in rng.integers(0, image.shape[0] - size, 2))
        crops.append(image[y : y + size, x : x + size])
    return crops


def test_the_shipped_model_has_a_litert_conversion_recorded_in_its_spec(shipped):
    spec, weights = shipped
    # the conversion of these weights: the hash recorded at conversion is theirs
    assert spec.serving["keras_sha256"] == file_sha256(weights)
    assert (weights.parent / spec.serving_file).is_file()


def test_litert_scores_match_keras_within_1e_5_on_real_crops(shipped, real_crops):
    spec, weights = shipped
    keras_scores = KerasFaceClassifier(spec, weights).score(real_crops)
    lite_scores = LiteRTFaceClassifier(spec, weights.parent / spec.serving_file).score(real_crops)
    assert lite_scores.shape == keras_scores.shape == (len(real_crops),)
    assert np.ptp(keras_scores) > 0.01  # the crops score differently: a real comparison
    np.testing.assert_allclose(lite_scores, keras_scores, atol=1e-5, rtol=0)


def test_litert_gives_the_same_scores_whatever_the_batch_split(shipped, real_crops):
    spec, weights = shipped
    whole = LiteRTFaceClassifier(spec, weights.parent / spec.serving_file)
    small = LiteRTFaceClassifier(spec, weights.parent / spec.serving_file, max_batch=7)
    np.testing.assert_allclose(small.score(real_crops), whole.score(real_crops), atol=1e-6)
    np.testing.assert_allclose(whole.score(real_crops[:1]), whole.score(real_crops)[:1], atol=1e-6)
    assert whole.score([]).shape == (0,)


def test_the_factory_prefers_the_litert_file_and_falls_back_to_keras(shipped, tmp_path):
    spec, weights = shipped
    assert isinstance(make_classifier(spec, weights), LiteRTFaceClassifier)
    assert isinstance(make_classifier(spec, weights, prefer="keras"), KerasFaceClassifier)

    # A spec without serving_file: its serving record still names the file.
    from_registry = ModelSpec.from_dict({**spec.to_dict(), "serving_file": ""})
    assert isinstance(make_classifier(from_registry, weights), LiteRTFaceClassifier)

    # Weights never converted: Keras, and asking for LiteRT is a clear error.
    lone = tmp_path / "lone.keras"
    shutil.copy(weights, lone)
    bare = ModelSpec.from_dict({**spec.to_dict(), "serving_file": "", "serving": {}})
    assert isinstance(make_classifier(bare, lone), KerasFaceClassifier)
    with pytest.raises(ModelLoadError, match="No .tflite"):
        make_classifier(bare, lone, prefer="litert")
    missing = ModelSpec.from_dict({**spec.to_dict(), "serving_file": "gone.tflite"})
    with pytest.raises(ModelLoadError, match="not found"):
        make_classifier(missing, lone)


def test_a_conversion_of_older_weights_is_not_served(shipped, tmp_path):
    # A retrain that overwrites the .keras leaves the old .tflite behind: its recorded hash no
    # longer matches, so the Keras model (the new weights) is served.
    spec, weights = shipped
    shutil.copy(weights.parent / spec.serving_file, tmp_path / spec.serving_file)
    retrained = tmp_path / weights.name
    retrained.write_bytes(weights.read_bytes() + b"\0")  # any other bytes
    assert isinstance(make_classifier(spec, retrained), KerasFaceClassifier)
    shutil.copy(weights, retrained)
    assert isinstance(make_classifier(spec, retrained), LiteRTFaceClassifier)


def test_an_old_spec_without_serving_file_still_loads(tmp_path):
    data = json.loads(SPEC_PATH.read_text())
    data.pop("serving_file", None)
    assert ModelSpec.from_dict(data).serving_file == ""


def test_convert_model_writes_the_tflite_beside_the_weights_and_records_it(shipped, tmp_path):
    spec, weights = shipped
    shutil.copy(weights, tmp_path / "m.keras")
    spec_path = tmp_path / "m.json"
    ModelSpec.from_dict(
        {
            **spec.to_dict(),
            "name": "m",
            "version": "7",
            "weights_file": "m.keras",
            "serving_file": "",
        }
    ).save(spec_path)
    call_command("convert_model", str(spec_path), samples=8, stdout=open("/dev/null", "w"))
    converted = ModelSpec.load(spec_path)
    assert converted.serving_file == "m_v7.tflite"
    assert converted.serving["max_abs_diff"] < 1e-5
    assert converted.serving["output"] == "logit"  # the file serves logits
    assert converted.metrics["frames"] == spec.metrics["frames"]  # other figures kept
    assert (tmp_path / "m_v7.tflite").stat().st_size > 100_000
    assert isinstance(make_classifier(converted, tmp_path / "m.keras"), LiteRTFaceClassifier)


def test_versions_serving_the_same_weights_share_one_conversion(shipped, tmp_path):
    spec, weights = shipped
    shutil.copy(weights, tmp_path / "m.keras")
    for version in ("7", "8"):
        ModelSpec.from_dict(
            {
                **spec.to_dict(),
                "name": "m",
                "version": version,
                "weights_file": "m.keras",
                "serving_file": "",
            }
        ).save(tmp_path / f"m_v{version}.json")
        call_command(
            "convert_model",
            str(tmp_path / f"m_v{version}.json"),
            samples=8,
            stdout=open("/dev/null", "w"),
        )
    second = ModelSpec.load(tmp_path / "m_v8.json")
    assert second.serving_file == "m_v7.tflite" and not (tmp_path / "m_v8.tflite").exists()
    assert second.serving["max_abs_diff"] < 1e-5  # checked again, not assumed
    assert isinstance(make_classifier(second, tmp_path / "m.keras"), LiteRTFaceClassifier)
    # Other weights beside them get their own file.
    shutil.copy(
        Path(settings.BASE_DIR) / "detection/models/lite0_sbi_v1.keras", tmp_path / "n.keras"
    )
    ModelSpec.from_dict(
        {
            **spec.to_dict(),
            "name": "n",
            "version": "1",
            "weights_file": "n.keras",
            "serving_file": "",
        }
    ).save(tmp_path / "n_v1.json")
    call_command(
        "convert_model", str(tmp_path / "n_v1.json"), samples=8, stdout=open("/dev/null", "w")
    )
    assert ModelSpec.load(tmp_path / "n_v1.json").serving_file == "n_v1.tflite"
