"""A job's result says what made it: the config, the frames and the weights' SHA-256."""

from django.urls import reverse

from detection.models import AnalysisJob
from tests.factories import done_job

from .base import ApiTestCase


class JobProvenanceTests(ApiTestCase):
    def test_a_finished_job_answers_its_config_frames_and_weights(self):
        job = done_job(uploader=self.alice)
        sha = job.model_version.spec["serving_sha256"]
        AnalysisJob.objects.filter(pk=job.pk).update(
            config={"frames_to_sample": 32, "profile": "default"},
            frame_indices=[0, 12, 24],
            weights_sha256=sha,
        )
        again = AnalysisJob.objects.create(video=job.video, reanalysis_of=job)
        self.as_user(self.alice)
        body = self.client.get(reverse("api:job-detail", args=[job.id])).json()
        self.assertEqual(
            body["provenance"],
            {
                "config": {"frames_to_sample": 32, "profile": "default"},
                "frame_indices": [0, 12, 24],
                "weights_sha256": sha,
                "reanalysis_of": None,
            },
        )
        body = self.client.get(reverse("api:job-detail", args=[again.id])).json()
        self.assertEqual(body["provenance"]["reanalysis_of"], str(job.id))
