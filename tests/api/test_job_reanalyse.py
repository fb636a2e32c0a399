"""POST /api/v1/jobs/{id}/reanalyse/ repeats an analysis with the same version and config."""

from unittest import mock

from django.urls import reverse

from detection.models import AnalysisJob
from tests.factories import done_job, model_version_like_active

from .base import ApiTestCase


class JobReanalyseApiTests(ApiTestCase):
    def test_it_queues_the_same_analysis_with_the_same_version_and_config(self):
        job = done_job(uploader=self.alice)
        AnalysisJob.objects.filter(pk=job.pk).update(config={"frames_to_sample": 8})
        self.as_user(self.alice)
        with (
            mock.patch("detection.services.job_enqueue") as enqueue,
            self.captureOnCommitCallbacks(execute=True),
        ):
            response = self.client.post(reverse("api:job-reanalyse", args=[job.id]))
        self.assertEqual(response.status_code, 202, response.content)
        again = AnalysisJob.objects.get(id=response.json()["id"])
        self.assertEqual(
            (again.reanalysis_of, again.model_version, again.config, again.video),
            (job, job.model_version, {"frames_to_sample": 8}, job.video),
        )
        enqueue.assert_called_once_with(job_id=again.id)

    def test_someone_elses_job_is_not_found_and_an_unfinished_one_is_refused(self):
        job = done_job(uploader=self.alice)
        self.as_user(self.bob)
        self.assertError(
            self.client.post(reverse("api:job-reanalyse", args=[job.id])), 404, "not_found"
        )
        AnalysisJob.objects.filter(pk=job.pk).update(status="queued")
        self.as_user(self.alice)
        self.assertError(
            self.client.post(reverse("api:job-reanalyse", args=[job.id])), 400, "invalid"
        )

    def test_a_version_whose_weights_are_archived_says_how_to_restore_them(self):
        job = done_job(uploader=self.alice)
        job.model_version = model_version_like_active(
            version="old", weights_file="detection/models/archived.keras"
        )
        job.save(update_fields=["model_version"])
        self.as_user(self.alice)
        body = self.assertError(
            self.client.post(reverse("api:job-reanalyse", args=[job.id])), 400, "invalid"
        )
        self.assertIn("import_model", str(body))
