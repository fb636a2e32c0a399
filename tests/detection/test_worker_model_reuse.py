from unittest import mock

import pytest

from detection import model_cache
from detection.selectors import model_version_active
from orchestration.jobs import job_run
from tests.factories import JobFactory

pytestmark = pytest.mark.django_db


def test_the_worker_loads_a_model_once_and_reuses_it_for_every_job(clips):
    model_cache.models_forget()
    real_factory = model_cache.make_classifier
    with mock.patch.object(model_cache, "make_classifier", side_effect=real_factory) as load:
        for _ in range(3):
            job = JobFactory()
            with open(clips["no_face"], "rb") as fh:
                job.video.file.save("c.mp4", fh, save=True)
            job_run(job_id=job.id)
    assert load.call_count == 1


def test_a_different_model_version_replaces_the_least_recently_used_one(settings):
    settings.DETECTION_ANALYSERS_CACHED = 1
    model_cache.models_forget()
    spec = model_version_active().to_spec()
    first = model_cache.analyser_for_spec(spec)
    assert model_cache.analyser_for_spec(spec) is first
    other = model_cache.analyser_for_spec(type(spec).from_dict({**spec.to_dict(), "version": "x"}))
    assert other is not first and model_cache.analysers_loaded() == 1


def test_the_active_and_a_shadow_version_stay_loaded_side_by_side(settings):
    settings.DETECTION_ANALYSERS_CACHED = 2
    model_cache.models_forget()
    spec = model_version_active().to_spec()
    active = model_cache.analyser_for_spec(spec)
    shadow = model_cache.analyser_for_spec(type(spec).from_dict({**spec.to_dict(), "version": "s"}))
    assert model_cache.analyser_for_spec(spec) is active  # not loaded again for the next job
    assert model_cache.analysers_loaded() == 2
    third = type(spec).from_dict({**spec.to_dict(), "version": "t"})
    model_cache.analyser_for_spec(third)  # the shadow was used least recently: it goes
    assert model_cache.analysers_loaded() == 2
    assert model_cache.analyser_for_spec(spec) is active
    assert (
        model_cache.analyser_for_spec(type(spec).from_dict({**spec.to_dict(), "version": "s"}))
        is not shadow
    )
