"""Classifiers serve logits (the model's output before its sigmoid), so confident faces keep
their order, and a version can score each face with its mirror image."""

from dataclasses import replace

import numpy as np
import pytest

from detection.pipeline.classify import KerasFaceClassifier, LiteRTFaceClassifier, convert_to_tflite
from detection.pipeline.spec import ModelSpec

SIZE = 16


@pytest.fixture(scope="module")
def steep_model(tmp_path_factory):
    """Dense(1, sigmoid) on the flattened pixels, scaled so that the test batch's logits span
    -5..30: far past float32's sigmoid saturation (about 17) for some crops. The kernel varies
    across the image, so a crop and its mirror image score differently."""
    import keras

    inputs = keras.Input((SIZE, SIZE, 3))
    x = keras.layers.Flatten()(keras.layers.Rescaling(1 / 255.0)(inputs))
    out = keras.layers.Dense(1, activation="sigmoid", name="fake")(x)
    model = keras.Model(inputs, out)
    kernel = np.random.default_rng(0).normal(0, 1, (SIZE * SIZE * 3, 1))
    z = _batch().reshape(len(_batch()), -1) / 255.0 @ kernel
    scale = 35.0 / float(z.max() - z.min())
    model.get_layer("fake").set_weights(
        [(kernel * scale).astype(np.float32), np.array([-5.0 - scale * float(z.min())], np.float32)]
    )
    path = tmp_path_factory.mktemp("steep") / "steep.keras"
    model.save(path)
    return model, path


def _spec(path, flip=False, serving=None):
    return ModelSpec(
        name="steep",
        version="1",
        architecture="test",
        weights_file=str(path),
        input_size=SIZE,
        channels=3,
        test_time_flip=flip,
        serving=serving or {},
    )


def _batch(n=24, seed=1):
    return np.random.default_rng(seed).uniform(0, 255, (n, SIZE, SIZE, 3)).astype(np.float32)


def _expected_logits(model, batch):
    import keras

    features = keras.Model(model.input, model.layers[-1].input)(batch).numpy()
    kernel, bias = model.get_layer("fake").get_weights()
    return (features @ kernel + bias).reshape(-1)


def test_keras_classifier_returns_unsaturated_logits(steep_model):
    model, path = steep_model
    batch = _batch()
    classifier = KerasFaceClassifier(_spec(path), path)
    logits = classifier.logits_batch(batch)
    np.testing.assert_allclose(logits, _expected_logits(model, batch), rtol=1e-4, atol=1e-4)
    saturated = logits > 17
    assert saturated.sum() >= 2, "the fixture must reach past float32 saturation"
    # float32 sigmoid ties them all at 1.0; the logits and float64 scores (exact to about
    # 36) keep them apart.
    assert len(np.unique(model(batch).numpy()[saturated])) == 1
    assert len(np.unique(classifier.score_batch(batch)[saturated])) == saturated.sum()
    np.testing.assert_allclose(classifier.score_batch(batch), 1 / (1 + np.exp(-logits)))


def test_mirror_view_averages_the_logits_of_the_face_and_its_mirror_image(steep_model):
    _, path = steep_model
    batch = _batch()
    plain = KerasFaceClassifier(_spec(path), path)
    flipped = KerasFaceClassifier(_spec(path, flip=True), path)
    expected = (plain.logits_batch(batch) + plain.logits_batch(batch[:, :, ::-1])) / 2
    assert np.abs(plain.logits_batch(batch) - expected).max() > 0.1  # the views differ
    np.testing.assert_allclose(flipped.logits_batch(batch), expected, rtol=1e-6, atol=1e-6)


def test_litert_conversion_serves_the_same_logits(steep_model, tmp_path):
    _, path = steep_model
    tflite = convert_to_tflite(path, tmp_path / "steep.tflite")
    batch = _batch()
    for flip in (False, True):
        keras_logits = KerasFaceClassifier(_spec(path, flip), path).logits_batch(batch)
        lite = LiteRTFaceClassifier(_spec(path, flip, serving={"output": "logit"}), tflite)
        np.testing.assert_allclose(lite.logits_batch(batch), keras_logits, rtol=1e-4, atol=1e-3)


def test_an_older_conversion_that_outputs_the_sigmoid_is_read_as_a_probability(
    steep_model, tmp_path
):
    """Conversions made before logits were served output the sigmoid; their spec says
    nothing of the output, and the classifier takes the logit of what they return."""
    import keras
    import tensorflow as tf

    model, path = steep_model
    out = tmp_path / "old.tflite"
    with __import__("tempfile").TemporaryDirectory() as tmp:
        keras.models.load_model(path, compile=False).export(tmp, verbose=False)
        out.write_bytes(tf.lite.TFLiteConverter.from_saved_model(tmp).convert())
    batch = _batch()
    old = LiteRTFaceClassifier(_spec(path), out)
    moderate = np.abs(_expected_logits(model, batch)) < 8  # where float32 sigmoid is exact
    np.testing.assert_allclose(
        old.logits_batch(batch)[moderate], _expected_logits(model, batch)[moderate], atol=1e-3
    )
    new = LiteRTFaceClassifier(
        replace(_spec(path), serving={"output": "logit"}),
        convert_to_tflite(path, tmp_path / "new.tflite"),
    )
    assert np.abs(new.logits_batch(batch)).max() > 17 >= np.abs(old.logits_batch(batch)).max()
