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


def test_a_different_model_version_replaces_the_loaded_one():
    spec = model_version_active().to_spec()
    first = model_cache.analyser_for_spec(spec)
    assert model_cache.analyser_for_spec(spec) is first
    other = model_cache.analyser_for_spec(type(spec).from_dict({**spec.to_dict(), "version": "x"}))
    assert other is not first and model_cache.analysers_loaded() == 1
