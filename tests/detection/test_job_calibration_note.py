"""The job page says what a calibrated video probability means and what it was fitted on."""

from django.urls import reverse

from tests.base import PlatformTestCase
from tests.factories import PASSWORD, done_job


class CalibrationNoteTests(PlatformTestCase):
    def test_the_job_page_says_what_the_probability_is_calibrated_on(self):
        job = done_job(uploader=self.alice)
        self.client.login(username="alice", password=PASSWORD)
        page = self.client.get(reverse("detection:job_detail", args=[job.id]))
        n = job.model_version.metrics["video_calibration"]["n"]
        self.assertContains(page, f"calibrated on {n} labelled videos")
        # A version without a video calibration says nothing of the kind.
        job.model_version.video_calibration_a = job.model_version.video_calibration_b = None
        job.model_version.save()
        page = self.client.get(reverse("detection:job_detail", args=[job.id]))
        self.assertNotContains(page, "labelled videos as if")
