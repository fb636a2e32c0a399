from unittest import mock

import pytest

from detection import model_cache
from detection.pipeline import classify
from detection.selectors import model_version_active

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


def test_the_keras_model_is_loaded_once_per_process():
    spec = model_version_active().to_spec()
    model_cache.models_forget()
    with mock.patch.object(
        classify, "KerasFaceClassifier", wraps=classify.KerasFaceClassifier
    ) as load:
        first = model_cache.keras_model_for_spec(spec)
        second = model_cache.keras_model_for_spec(spec)
    assert first is second
    assert load.call_count == 1
