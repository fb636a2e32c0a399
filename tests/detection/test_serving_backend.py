"""The worker serves the registered model's LiteRT conversion, not TensorFlow."""

import pytest

from detection import model_cache
from detection.pipeline.classify import LiteRTFaceClassifier, file_sha256
from detection.selectors import model_version_active

pytestmark = pytest.mark.django_db


def test_the_active_shipped_version_is_served_by_litert():
    # The registry row's spec carries the serving record convert_model wrote, apart from the
    # metrics.
    version = model_version_active()
    # A conversion of the version's own weights (lite0_fusion v1 serves v5's weights through a
    # file with a second output): the hash recorded at conversion is the weights' hash.
    assert version.spec["serving"]["keras_sha256"] == file_sha256(version.resolved_weights_path)
    assert "serving" not in version.metrics
    analyser = model_cache.analyser_for_spec(version.to_spec())
    # A fused version's scorer wraps the classifier that serves both of its branches.
    served = getattr(analyser.classifier, "classifier", analyser.classifier)
    assert isinstance(served, LiteRTFaceClassifier)
    # The conversion sits beside the weights; a version sharing another's weights has its own.
    assert served.path == (version.resolved_weights_path.parent / version.spec["serving"]["file"])
    assert version.spec["serving"]["output"] == "logit"
    assert analyser.weights_sha256 == version.spec["serving_sha256"] == file_sha256(served.path)
