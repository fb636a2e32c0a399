"""Grad-CAM on the model shipped in the repository (no Django)."""

import numpy as np
import pytest

from detection.pipeline.explain import grad_cam, overlay
from tests import media

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def model(shipped_analyser):
    return shipped_analyser.classifier.model


def test_it_returns_one_heatmap_in_0_1_per_crop(model, shipped_analyser):
    spec = shipped_analyser.spec
    face = media.face_image()
    crops = [face, face[0:200, 100:300], face[40:240, 60:260]]
    heat = grad_cam(model, crops, input_size=spec.input_size, channels=spec.channels)
    assert heat.shape == (3, spec.input_size, spec.input_size) and heat.dtype == np.float32
    assert heat.min() >= 0.0 and heat.max() <= 1.0
    for h in heat:  # scaled so the strongest evidence is 1, or all 0 when there is none
        assert h.max() == pytest.approx(1.0) or h.max() == 0.0
    # The crop the model finds most suspicious has evidence, concentrated in some places.
    scores = shipped_analyser.classifier.score(crops)
    top = int(np.argmax(scores))
    assert scores[top] > 0.5
    assert heat[top].max() == pytest.approx(1.0) and heat[top].mean() < 0.9


def test_a_flat_grey_crop_has_a_flat_heatmap(model, shipped_analyser):
    spec = shipped_analyser.spec
    heat = grad_cam(
        model,
        [np.full((64, 64, 3), 128, np.uint8)],
        input_size=spec.input_size,
        channels=spec.channels,
    )[0]
    # No edges, so every position of the convolution sees the same input.
    assert np.ptp(heat[2:-2, 2:-2]) < 1e-3


def test_no_crops_give_no_heatmaps(model):
    assert grad_cam(model, [], input_size=64, channels=1).shape == (0, 64, 64)


def test_a_model_without_a_convolution_is_refused():
    import keras

    dense = keras.Sequential(
        [
            keras.Input((64, 64, 1)),
            keras.layers.Flatten(),
            keras.layers.Dense(1, activation="sigmoid"),
        ]
    )
    with pytest.raises(ValueError, match="no Conv2D"):
        grad_cam(dense, [np.zeros((64, 64, 3), np.uint8)], input_size=64, channels=1)


def test_the_overlay_keeps_the_crops_size():
    crop = media.face_image()[:200, :150]
    out = overlay(crop, np.linspace(0, 1, 64 * 64, dtype=np.float32).reshape(64, 64))
    assert out.shape == crop.shape and out.dtype == np.uint8
    assert not np.array_equal(out, crop)


@pytest.mark.parametrize(
    "spec_name",
    [
        "paper_cnn_v1.json",
        "lite0_sbi_v5.json",  # the active fused version's Keras weights
    ],
)
def test_both_shipped_architectures_get_heatmaps(spec_name):
    # paper_cnn is a Sequential stack; EfficientNet-Lite0 a functional graph with residual adds.
    from django.conf import settings

    from detection.pipeline import Analyser

    analyser = Analyser.from_spec_file(settings.BASE_DIR / "detection" / "models" / spec_name)
    spec = analyser.spec
    heat = grad_cam(
        analyser.classifier.model,
        [media.face_image()],
        input_size=spec.input_size,
        channels=spec.channels,
    )
    assert heat.shape == (1, spec.input_size, spec.input_size)
    assert 0.0 <= heat.min() and heat.max() <= 1.0
