from unittest import mock

from django.core.files.uploadedfile import SimpleUploadedFile, TemporaryUploadedFile
from django.test import override_settings
from django.urls import reverse

from detection import services
from detection.models import AnalysisJob, JobStatus, Video

from .base import ApiTestCase

VIDEO_BYTES = b"\x00\x00\x00\x18ftypmp42 some video bytes"


class UploadApiTests(ApiTestCase):
    url = reverse("api:video-upload")

    def setUp(self):
        super().setUp()
        self.as_user(self.alice)

    def _post(self, content=VIDEO_BYTES, name="holiday.mp4", **fields):
        return self.client.post(
            self.url, {"file": SimpleUploadedFile(name, content), **fields}, format="multipart"
        )

    def test_it_queues_a_job_and_answers_202_with_its_url(self):
        with (
            mock.patch("detection.services.job_enqueue") as enqueue,
            self.captureOnCommitCallbacks(execute=True),
        ):
            response = self._post(client_reference="batch-7/clip-3")
        self.assertEqual(response.status_code, 202, response.content)
        job = AnalysisJob.objects.get()
        body = response.json()
        self.assertFalse(body["duplicate"])
        self.assertEqual(body["job"]["id"], str(job.id))
        self.assertEqual(body["job"]["status"], "queued")
        self.assertEqual(body["job"]["client_reference"], "batch-7/clip-3")
        expected_url = "http://testserver" + reverse("api:job-detail", args=[job.id])
        self.assertEqual(body["job"]["url"], expected_url)
        self.assertEqual(response["Location"], expected_url)
        enqueue.assert_called_once_with(job_id=job.id)
        self.assertEqual(job.video.uploaded_by, self.alice)
        self.assertEqual(job.client_reference, "batch-7/clip-3")
        self.assertTrue(job.model_version.is_active)

    @override_settings(WEBHOOK_ALLOW_PRIVATE_URLS=True, WEBHOOK_ALLOWED_PORTS=[])  # any port
    def test_it_stores_the_callback_url(self):
        with mock.patch("detection.services.job_enqueue"):
            response = self._post(callback_url="http://127.0.0.1:9/hook")
        self.assertEqual(response.status_code, 202, response.content)
        self.assertEqual(AnalysisJob.objects.get().callback_url, "http://127.0.0.1:9/hook")

    def test_a_large_upload_is_streamed_to_a_temporary_file_not_memory(self):
        seen = {}
        real_submit = services.video_submit

        def spy(**kwargs):
            seen["file"] = kwargs["uploaded_file"]
            return real_submit(**kwargs)

        content = b"\x00" * (3 * 1024 * 1024)  # above FILE_UPLOAD_MAX_MEMORY_SIZE (2 MB)
        with (
            mock.patch("detection.services.job_enqueue"),
            mock.patch("detection.api.services.video_submit", side_effect=spy),
        ):
            response = self._post(content=content)
        self.assertEqual(response.status_code, 202, response.content)
        self.assertIsInstance(seen["file"], TemporaryUploadedFile)
        self.assertEqual(Video.objects.get().size_bytes, len(content))

    def test_an_empty_file_is_refused_with_the_error_shape(self):
        body = self.assertError(self._post(content=b""), 400, "invalid")
        self.assertIn("file", body["field_errors"])
        self.assertFalse(Video.objects.exists())

    def test_a_missing_file_is_refused(self):
        response = self.client.post(self.url, {"client_reference": "x"}, format="multipart")
        body = self.assertError(response, 400, "invalid")
        self.assertEqual(list(body["field_errors"]), ["file"])

    @override_settings(DETECTION_MAX_UPLOAD_BYTES=10)
    def test_a_file_over_the_size_limit_is_refused(self):
        body = self.assertError(self._post(content=b"x" * 11), 400, "invalid")
        self.assertIn("limit", body["message"] + str(body["field_errors"]))
        self.assertFalse(Video.objects.exists())

    @override_settings(DETECTION_MAX_UPLOAD_BYTES=1024)
    def test_an_announced_oversize_body_is_refused_before_it_is_read(self):
        with mock.patch("detection.api.services.video_submit") as submit:
            response = self._post(content=b"x" * (200 * 1024))
        body = self.assertError(response, 400, "invalid")
        self.assertIn("limit", body["field_errors"]["file"][0])
        submit.assert_not_called()

    def test_a_json_body_is_refused_as_unsupported(self):
        response = self.client.post(self.url, {"file": "abc"}, format="json")
        self.assertError(response, 415, "unsupported_media_type")

    def test_an_anonymous_upload_is_refused_and_stores_nothing(self):
        self.client.credentials()
        self.assertError(self._post(), 401, "not_authenticated")
        self.assertFalse(Video.objects.exists())

    def test_an_over_long_client_reference_is_refused(self):
        body = self.assertError(self._post(client_reference="x" * 201), 400, "invalid")
        self.assertIn("client_reference", body["field_errors"])

    def test_a_session_upload_needs_the_csrf_token(self):
        from rest_framework.test import APIClient

        from tests.factories import PASSWORD

        browser = APIClient(enforce_csrf_checks=True)
        browser.login(username="alice", password=PASSWORD)
        response = browser.post(
            self.url, {"file": SimpleUploadedFile("a.mp4", VIDEO_BYTES)}, format="multipart"
        )
        self.assertError(response, 403, "permission_denied")
        self.assertFalse(AnalysisJob.objects.filter(status=JobStatus.QUEUED).exists())
