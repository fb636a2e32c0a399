from unittest import mock

import pytest

from detection import analysers
from detection.selectors import model_version_active
from detection.services import job_run
from tests.factories import JobFactory

pytestmark = pytest.mark.django_db


def test_the_worker_loads_a_model_once_and_reuses_it_for_every_job(clips):
    analysers._cache.clear()
    real_factory = analysers.make_classifier
    with mock.patch.object(analysers, "make_classifier", side_effect=real_factory) as load:
        for _ in range(3):
            job = JobFactory()
            with open(clips["no_face"], "rb") as fh:
                job.video.file.save("c.mp4", fh, save=True)
            job_run(job_id=job.id)
    assert load.call_count == 1


def test_a_different_model_version_replaces_the_loaded_one():
    spec = model_version_active().to_spec()
    first = analysers.analyser_for_spec(spec)
    assert analysers.analyser_for_spec(spec) is first
    other = analysers.analyser_for_spec(type(spec).from_dict({**spec.to_dict(), "version": "x"}))
    assert other is not first and len(analysers._cache) == 1
