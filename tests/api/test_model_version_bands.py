"""A model version, also as a job's, carries its video band (the verdict's) and its face band
(faces' and frames' scores) as {low, high} objects."""

from django.urls import reverse

from detection.models import ModelVersion
from detection.selectors import model_version_active
from tests.factories import done_job, model_version_set_bands

from .base import ApiTestCase


class ModelVersionBandsApiTests(ApiTestCase):
    def setUp(self):
        super().setUp()
        self.active = model_version_set_bands(
            model_version_active(), face=(0.35, 0.65), video=(0.427, 0.673)
        )

    def test_a_version_carries_its_video_band_and_its_face_band(self):
        self.as_user(self.alice)
        body = self.client.get(reverse("api:model-version-active")).json()
        self.assertEqual(body["video_band"], {"low": 0.427, "high": 0.673})
        self.assertEqual(body["face_band"], {"low": 0.35, "high": 0.65})

    def test_a_version_without_a_video_band_answers_its_face_band_for_videos(self):
        other = ModelVersion.objects.exclude(pk=self.active.pk).order_by("pk").first()
        model_version_set_bands(other, face=(0.3, 0.6), video=None)
        self.as_user(self.alice)
        body = self.client.get(reverse("api:model-version-detail", args=[other.pk])).json()
        self.assertEqual(body["video_band"], {"low": 0.3, "high": 0.6})
        self.assertEqual(body["face_band"], {"low": 0.3, "high": 0.6})

    def test_a_jobs_result_says_which_band_its_verdict_used(self):
        job = done_job(uploader=self.alice, verdict="uncertain", probability=0.6)
        self.as_user(self.alice)
        detail = self.client.get(reverse("api:job-detail", args=[job.id])).json()
        listed = self.client.get(reverse("api:job-list")).json()["results"][0]
        for version in (detail["model_version"], listed["model_version"]):
            self.assertEqual(version["video_band"], {"low": 0.427, "high": 0.673})
            self.assertEqual(version["face_band"], {"low": 0.35, "high": 0.65})
