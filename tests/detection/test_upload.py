from unittest import mock

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse

from detection.models import AnalysisJob, JobStatus, Video
from tests.base import PlatformTestCase
from tests.factories import PASSWORD


class UploadTests(PlatformTestCase):
    url = reverse("detection:upload")

    def setUp(self):
        super().setUp()
        self.client.login(username="alice", password=PASSWORD)

    def _post(
        self, content=b"\x00\x00\x00\x18ftypmp42 some video bytes", name="holiday.mp4", **headers
    ):
        return self.client.post(self.url, {"file": SimpleUploadedFile(name, content)}, **headers)

    def test_it_requires_login(self):
        self.client.logout()
        response = self.client.get(self.url)
        self.assertRedirects(response, f"{reverse('accounts:login')}?next={self.url}")

    def test_it_shows_the_form(self):
        response = self.client.get(self.url)
        self.assertContains(response, 'id="upload-progress"')

    def test_it_stores_the_video_under_a_generated_name_and_queues_a_job(self):
        with (
            mock.patch("detection.services.job_enqueue") as enqueue,
            self.captureOnCommitCallbacks(execute=True),
        ):
            response = self._post(name="../../etc/passwd.mp4")
        job = AnalysisJob.objects.get()
        self.assertRedirects(
            response, reverse("detection:job_detail", args=[job.id]), fetch_redirect_response=False
        )
        enqueue.assert_called_once_with(job_id=job.id)
        video = job.video
        self.assertEqual(job.status, JobStatus.QUEUED)
        self.assertEqual(video.uploaded_by, self.alice)
        self.assertEqual(video.original_name, "passwd.mp4")
        self.assertRegex(video.file.name, rf"^videos/\d{{4}}/\d{{2}}/{video.id}\.mp4$")
        self.assertEqual(len(video.sha256), 64)
        self.assertEqual(job.model_version.is_active, True)

    def test_it_answers_json_for_the_progress_bar_script(self):
        with mock.patch("detection.services.job_enqueue"):
            response = self._post(HTTP_ACCEPT="application/json")
        self.assertEqual(response.status_code, 201)
        job = AnalysisJob.objects.get()
        self.assertEqual(response.json()["job_url"], reverse("detection:job_detail", args=[job.id]))

    def test_it_does_not_enqueue_when_the_transaction_rolls_back(self):
        with (
            mock.patch("detection.services.job_enqueue") as enqueue,
            self.captureOnCommitCallbacks(execute=False) as callbacks,
        ):
            self._post()
        self.assertEqual(len(callbacks), 1)  # queued only for after the commit
        enqueue.assert_not_called()

    def test_it_refuses_an_empty_file_with_a_clear_error(self):
        response = self._post(content=b"")
        self.assertContains(response, "The submitted file is empty.", status_code=400)
        self.assertFalse(Video.objects.exists())

    @override_settings(DETECTION_MAX_UPLOAD_BYTES=10)
    def test_it_refuses_a_file_over_the_size_limit(self):
        response = self._post(content=b"x" * 11, HTTP_ACCEPT="application/json")
        self.assertEqual(response.status_code, 400)
        self.assertIn("limit", response.json()["errors"]["file"][0])
        self.assertFalse(Video.objects.exists())
