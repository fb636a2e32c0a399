"""The worker serves the registered model's LiteRT conversion, not TensorFlow."""

import pytest

from detection import model_cache
from detection.pipeline.classify import LiteRTFaceClassifier
from detection.selectors import model_version_active

pytestmark = pytest.mark.django_db


def test_the_active_shipped_version_is_served_by_litert():
    # The registry row carries the spec's metrics, where convert_model recorded the .tflite.
    version = model_version_active()
    # The float conversion of the version's own weights (v6 serves v5's weights and file).
    assert version.metrics["serving"]["file"] == f"{version.resolved_weights_path.stem}.tflite"
    analyser = model_cache.analyser_for_spec(version.to_spec())
    assert isinstance(analyser.classifier, LiteRTFaceClassifier)
    # The conversion sits beside the weights; a version sharing another's weights has its own.
    assert analyser.classifier.path == (
        version.resolved_weights_path.parent / version.metrics["serving"]["file"]
    )
    assert version.metrics["serving"]["output"] == "logit"
