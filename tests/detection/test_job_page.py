from django.test import override_settings
from django.urls import reverse

from detection.models import AnalysisJob, JobStatus
from tests.base import PlatformTestCase
from tests.factories import PASSWORD, JobFactory, VideoFactory, done_job


class JobPageTests(PlatformTestCase):
    def setUp(self):
        super().setUp()
        self.client.login(username="alice", password=PASSWORD)

    # A site that lets uploaders see the scores (the default hides them from uploaders:
    # tests/moderation/test_uploader_visibility.py).
    @override_settings(MODERATION_HIDE_SCORES_FROM_UPLOADERS=False)
    def test_a_finished_job_shows_verdict_probability_frames_and_crops(self):
        job = done_job(uploader=self.alice, verdict="fake", probability=0.912)
        response = self.client.get(reverse("detection:job_detail", args=[job.id]))
        self.assertContains(response, "Fake")
        self.assertContains(response, "0.912")
        self.assertContains(response, '<svg class="timeline"')
        self.assertContains(
            response, reverse("detection:face_crop", args=[job.frames.get().faces.get().id])
        )
        self.assertContains(response, 'data-finished="true"')

    def test_a_queued_job_refreshes_itself(self):
        job = JobFactory(video=VideoFactory(uploaded_by=self.alice))
        response = self.client.get(reverse("detection:job_detail", args=[job.id]))
        self.assertContains(response, 'data-finished="false"')
        self.assertContains(response, "refreshes by itself")
        status = self.client.get(reverse("detection:job_status", args=[job.id])).json()
        self.assertEqual((status["status"], status["finished"]), ("queued", False))

    def test_a_failed_job_shows_its_reason(self):
        job = JobFactory(
            video=VideoFactory(uploaded_by=self.alice),
            status=JobStatus.FAILED,
            error="The file could not be opened as a video.",
        )
        response = self.client.get(reverse("detection:job_detail", args=[job.id]))
        self.assertContains(response, "could not be analysed")
        self.assertContains(response, "The file could not be opened as a video.")

    def test_a_no_face_result_says_so_instead_of_a_score(self):
        job = done_job(uploader=self.alice, verdict="no_face", probability=None, faces=False)
        response = self.client.get(reverse("detection:job_detail", args=[job.id]))
        self.assertContains(response, "No face found")
        self.assertContains(response, "no face was found")


class JobPageProvenanceTests(PlatformTestCase):
    def test_the_page_names_the_model_file_and_the_frames_that_made_the_result(self):
        job = done_job(uploader=self.alice)
        sha = job.model_version.spec["serving_sha256"]
        AnalysisJob.objects.filter(pk=job.pk).update(
            weights_sha256=sha, frame_indices=[3, 9, 15], config={"full_look_every": 4}
        )
        self.client.login(username="alice", password=PASSWORD)
        page = self.client.get(reverse("detection:job_detail", args=[job.id]))
        self.assertContains(page, f"{sha[:16]}…")
        self.assertContains(page, f"SHA-256 of the file that scored this video: {sha}")
        self.assertContains(page, "3 (a full look for faces every 4)")
