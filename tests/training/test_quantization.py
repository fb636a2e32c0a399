"""An int8 serving of a version's weights: converted with ranges from training samples,
calibrated on its own held-out scores, recorded as its own version, and never silently served
by the float model instead."""

import json

import numpy as np
import pytest

from detection.pipeline import Analyser
from detection.pipeline.classify import (
    LiteRTFaceClassifier,
    ModelLoadError,
    convert_to_tflite,
    make_classifier,
)
from detection.pipeline.spec import ModelSpec
from tests import media

pytestmark = pytest.mark.slow


def _small_model(path):
    """A small seeded CNN ending in Dense(1, sigmoid), as the served models do."""
    import keras
    from keras import layers

    keras.utils.set_random_seed(3)
    inputs = keras.Input((32, 32, 3))
    x = layers.Rescaling(1 / 128.0, offset=-1.0)(inputs)
    x = layers.Conv2D(8, 3, strides=2, activation="relu6")(x)
    x = layers.DepthwiseConv2D(3, activation="relu6")(x)
    x = layers.Conv2D(16, 1, activation="relu6")(x)
    x = layers.GlobalAveragePooling2D()(x)
    # A wide head so the logits spread over a few units, as a trained model's do.
    outputs = layers.Dense(
        1, activation="sigmoid", kernel_initializer=keras.initializers.RandomNormal(stddev=3.0)
    )(x)
    keras.Model(inputs, outputs).save(path)
    return path


def test_an_int8_conversion_is_integer_and_keeps_the_float_models_ranking(tmp_path):
    from ai_edge_litert.interpreter import Interpreter

    weights = _small_model(tmp_path / "small.keras")
    rng = np.random.default_rng(0)
    # Inputs with structure (smooth gradients of random direction and contrast), not noise.
    yy, xx = np.mgrid[0:32, 0:32] / 31.0
    faces = np.stack(
        [
            np.clip(
                128
                + rng.uniform(-120, 120)
                * (np.cos(t) * xx + np.sin(t) * yy)[..., None]
                * rng.uniform(0.3, 1, 3),
                0,
                255,
            )
            for t in rng.uniform(0, 2 * np.pi, 96)
        ]
    ).astype(np.float32)
    float_file = convert_to_tflite(weights, tmp_path / "f.tflite")
    int8_file = convert_to_tflite(weights, tmp_path / "q.tflite", representative=faces[:64])
    kinds = {d["dtype"] for d in Interpreter(model_path=str(int8_file)).get_tensor_details()}
    assert np.int8 in kinds  # weights and activations in 8 bits
    spec = ModelSpec(
        name="small",
        version="1",
        architecture="custom",
        weights_file=weights.name,
        input_size=32,
        channels=3,
        serving={"output": "logit"},
    )
    held = faces[64:]  # not among the representative inputs
    z_float = LiteRTFaceClassifier(spec, float_file).logits_batch(held)
    z_int8 = LiteRTFaceClassifier(spec, int8_file).logits_batch(held)
    assert np.std(z_float) > 0.2  # the check below means something
    assert np.corrcoef(z_float, z_int8)[0, 1] > 0.98
    assert not np.allclose(z_float, z_int8, atol=1e-6)  # it is a different file


@pytest.fixture
def version(tmp_path):
    """A shipped-like version (Lite0 at 64 px, mirror view, log-odds pooling) and labelled faces."""
    from detection.training.recipes.architectures import build

    media.labelled_faces(tmp_path / "labelled")
    models = tmp_path / "models"
    models.mkdir()
    build("efficientnet_lite0", 64, 3).save(models / "tiny_v1.keras")
    spec = ModelSpec(
        name="tiny",
        version="1",
        architecture="efficientnet_lite0",
        weights_file="tiny_v1.keras",
        input_size=64,
        channels=3,
        face_margin=0.3,
        test_time_flip=True,
        person_pooling="mean_logit",
        metrics={"training": {"train_dir": "somewhere", "images_calibration": 2}},
    )
    spec.save(models / "tiny_v1.json")
    return tmp_path, models / "tiny_v1.json"


def _quantize(root, spec_path):
    from detection.training.export.quantization import quantize_version
    from detection.training.recipes.train import BlendTrainConfig

    config = BlendTrainConfig(
        labelled_dirs=[root / "labelled"],
        real_pools=[],
        val_dir=None,
        out_dir=spec_path.parent,
        progress=False,
    )
    return quantize_version(spec_path, config, "2", samples=16)


def test_a_quantized_version_is_calibrated_on_its_own_scores_and_served_as_int8(version, clips):
    root, spec_path = version
    spec, path = _quantize(root, spec_path)
    assert path == spec_path.parent / "tiny_v2.json"
    saved = json.loads(path.read_text())
    serving = saved["serving"]
    assert "serving" not in saved["metrics"]  # serving config, apart from the metrics
    assert serving["quantization"] == "int8" and serving["file"] == "tiny_v2.tflite"
    assert saved["weights_file"] == "tiny_v1.keras"  # shared, not copied
    fidelity = serving["fidelity"]
    assert fidelity["held_out_faces"] == saved["metrics"]["training"]["images_calibration"] == 2
    # An untrained network scores every face alike: no correlation to speak of, and JSON has
    # no NaN.
    assert fidelity["logit_correlation"] is None or -1 <= fidelity["logit_correlation"] <= 1
    assert fidelity["max_abs_logit_change"] >= fidelity["median_abs_logit_change"] >= 0.0
    assert saved["metrics"]["training"]["quantized_from"] == "tiny v1"
    assert saved["metrics"]["training"]["note"] == (
        "v2 serves tiny v1's weights as an int8 LiteRT file, calibrated on its own scores."
    )
    assert saved["test_time_flip"] and saved["person_pooling"] == "mean_logit"
    assert "frames" not in saved["metrics"]  # the source's validation figures are not its own

    served = make_classifier(spec, spec.weights_path(path))
    assert isinstance(served, LiteRTFaceClassifier) and served.path.name == "tiny_v2.tflite"
    analyser = Analyser.from_spec_file(path)  # elsewhere the Keras model; here the int8 file
    assert isinstance(analyser.classifier, LiteRTFaceClassifier)
    assert analyser.classifier.path.name == "tiny_v2.tflite"
    result = analyser.analyse(clips["face"])
    assert result.frames_with_face >= 28 and 0.0 <= result.fake_probability <= 1.0


def test_a_quantized_version_is_never_served_by_the_float_model(version):
    root, spec_path = version
    spec, path = _quantize(root, spec_path)
    with pytest.raises(ModelLoadError, match="int8"):
        make_classifier(spec, spec.weights_path(path), prefer="keras")
    # New weights under the same file name: the int8 file no longer matches them.
    from detection.training.recipes.architectures import build

    build("efficientnet_lite0", 64, 3).save(spec.weights_path(path))
    with pytest.raises(ModelLoadError, match="quantized from other weights"):
        make_classifier(spec, spec.weights_path(path))


def test_held_out_faces_other_than_the_versions_own_are_refused(version):
    """Weights trained elsewhere held out faces named in a listing; rebuilt another way, the
    split would hold faces they trained on. The version's float AUC on the rebuilt faces must
    match the one it recorded on its calibration faces."""
    root, spec_path = version
    spec = ModelSpec.load(spec_path)
    # The two held-out samples score an AUC of 0, 0.5 or 1: never 0.25.
    ModelSpec.from_dict(
        {**spec.to_dict(), "metrics": {**spec.metrics, "calibration_split": {"auc": 0.25, "n": 2}}}
    ).save(spec_path)
    with pytest.raises(ValueError, match="Pass the listing it held out"):
        _quantize(root, spec_path)
    assert not (spec_path.parent / "tiny_v2.tflite").exists()


def test_convert_model_refuses_to_replace_an_int8_serving_with_a_float_one(version):
    from django.core.management import CommandError, call_command

    root, spec_path = version
    _, path = _quantize(root, spec_path)
    before = path.read_text()
    with pytest.raises(CommandError, match="int8"):
        call_command("convert_model", str(path), samples=4)
    assert path.read_text() == before


def test_bad_requests_are_clear_errors_and_write_nothing(version, capsys):
    from detection.training.export.quantization import main

    root, spec_path = version
    data = root / "data"
    (data / "faces" / "openforensics").mkdir(parents=True)
    (root / "labelled").rename(data / "faces" / "openforensics" / "train")
    # The source's own version number would overwrite it.
    with pytest.raises(SystemExit) as exit_:
        main(["--spec", str(spec_path), "--data", str(data), "--version", "1"])
    assert exit_.value.code == 2
    assert "the source version's own number" in capsys.readouterr().err
    # A spec whose weights are gone.
    spec_path.with_name("tiny_v1.keras").unlink()
    with pytest.raises(SystemExit) as exit_:
        main(["--spec", str(spec_path), "--data", str(data), "--version", "2"])
    assert exit_.value.code == 2
    assert "No weights at" in capsys.readouterr().err
    assert not list(spec_path.parent.glob("tiny_v2.*"))
