"""The job page says what a calibrated video probability means and what it was fitted on."""

from django.urls import reverse

from detection.models import ModelVersion
from tests.base import PlatformTestCase
from tests.factories import PASSWORD, done_job, model_version_like_active


class CalibrationNoteTests(PlatformTestCase):
    def test_the_job_page_says_what_the_probability_is_calibrated_on(self):
        job = done_job(uploader=self.alice)
        job.model_version = ModelVersion.objects.get(name="lite0_sbi", version="6")
        job.save(update_fields=["model_version"])
        self.client.login(username="alice", password=PASSWORD)
        page = self.client.get(reverse("detection:job_detail", args=[job.id]))
        n = job.model_version.metrics["video_calibration"]["n"]
        self.assertContains(page, f"calibrated on {n} labelled videos")
        # A version without a video calibration says nothing of the kind.
        job.model_version = model_version_like_active(
            version="t", video_calibration_a=None, video_calibration_b=None, fusion=None
        )
        job.save(update_fields=["model_version"])
        page = self.client.get(reverse("detection:job_detail", args=[job.id]))
        self.assertNotContains(page, "labelled videos as if")

    def test_a_fused_versions_job_page_says_what_its_combiner_was_fitted_on(self):
        job = done_job(uploader=self.alice)
        self.assertIsNotNone(job.model_version.serving.fusion)  # the active version is fused
        self.client.login(username="alice", password=PASSWORD)
        page = self.client.get(reverse("detection:job_detail", args=[job.id]))
        n = job.model_version.metrics["fusion_fit"]["n"]
        self.assertContains(page, f"out-of-source scores of {n} labelled videos")
        self.assertNotContains(
            page,
            "labelled videos as if real and fake videos were equally "
            "common: of videos scored near p",
        )
