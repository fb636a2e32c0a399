from unittest import mock

import pytest

from detection.pipeline import classify
from detection.selectors import model_version_active
from moderation import services

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


def test_the_keras_model_is_loaded_once_per_process():
    spec = model_version_active().to_spec()
    services._keras_cache.clear()
    with mock.patch.object(classify, "KerasFaceClassifier",
                           wraps=classify.KerasFaceClassifier) as load:
        first = services._keras_model(spec)
        second = services._keras_model(spec)
    assert first is second
    assert load.call_count == 1
