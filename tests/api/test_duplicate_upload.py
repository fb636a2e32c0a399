from unittest import mock

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from detection.models import AnalysisJob, JobStatus, ModelVersion, Video
from detection.services import model_version_activate
from tests.factories import model_version_like_active

from .base import ApiTestCase

VIDEO_BYTES = b"\x00\x00\x00\x18ftypmp42 the same clip"


class DuplicateUploadTests(ApiTestCase):
    url = reverse("api:video-upload")

    def setUp(self):
        super().setUp()
        patcher = mock.patch("detection.services.job_enqueue")
        patcher.start()
        self.addCleanup(patcher.stop)

    def _post(self, user, content=VIDEO_BYTES, **fields):
        self.as_user(user)
        return self.client.post(
            self.url, {"file": SimpleUploadedFile("c.mp4", content), **fields}, format="multipart"
        )

    def test_the_same_file_from_the_same_account_returns_the_existing_analysis(self):
        first = self._post(self.alice)
        second = self._post(self.alice)
        self.assertEqual((first.status_code, second.status_code), (202, 200))
        self.assertTrue(second.json()["duplicate"])
        self.assertEqual(second.json()["job"]["id"], first.json()["job"]["id"])
        self.assertEqual(second["Location"], first["Location"])
        self.assertEqual((Video.objects.count(), AnalysisJob.objects.count()), (1, 1))

    def test_a_different_file_is_a_new_analysis(self):
        self._post(self.alice)
        response = self._post(self.alice, content=VIDEO_BYTES + b"!")
        self.assertEqual(response.status_code, 202)
        self.assertEqual(AnalysisJob.objects.count(), 2)

    def test_the_same_file_from_another_account_is_its_own_analysis(self):
        self._post(self.alice)
        response = self._post(self.bob)
        self.assertEqual(response.status_code, 202)
        self.assertFalse(response.json()["duplicate"])
        self.assertEqual(Video.objects.filter(uploaded_by=self.bob).count(), 1)

    def test_reanalyse_queues_a_new_job_for_the_same_video_under_the_active_model(self):
        first_id = self._post(self.alice).json()["job"]["id"]
        old = ModelVersion.objects.get(state="active")
        newer = model_version_like_active(name=old.name, version=f"{old.version}-next")
        model_version_activate(model_version=newer)
        response = self._post(self.alice, reanalyse="true", client_reference="rerun")
        self.assertEqual(response.status_code, 202, response.content)
        body = response.json()
        self.assertFalse(body["duplicate"])
        self.assertNotEqual(body["job"]["id"], first_id)
        new_job = AnalysisJob.objects.get(id=body["job"]["id"])
        self.assertEqual(new_job.video, AnalysisJob.objects.get(id=first_id).video)
        self.assertEqual(new_job.model_version, newer)
        self.assertEqual(new_job.client_reference, "rerun")
        self.assertEqual(Video.objects.count(), 1)  # the file is stored once

    def test_a_repeat_after_a_failed_analysis_analyses_again(self):
        first_id = self._post(self.alice).json()["job"]["id"]
        AnalysisJob.objects.filter(id=first_id).update(status=JobStatus.FAILED)
        response = self._post(self.alice)
        self.assertEqual(response.status_code, 202)
        self.assertNotEqual(response.json()["job"]["id"], first_id)
        self.assertEqual(Video.objects.count(), 1)
