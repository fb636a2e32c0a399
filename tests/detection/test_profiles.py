"""Speed profiles: a setting, an upload option (web and API) and the worker's configuration."""

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse

from detection.model_cache import analysis_config
from detection.models import AnalysisJob
from tests.api.base import ApiTestCase


def upload(name="clip.mp4", content=b"\x00\x00\x00\x18ftypmp42 not a real video"):
    return SimpleUploadedFile(name, content, content_type="video/mp4")


class ProfileTests(ApiTestCase):
    def test_the_thorough_profile_looks_at_twice_the_frames_with_a_full_look_each(self):
        default, thorough = analysis_config("default"), analysis_config("thorough")
        self.assertEqual(thorough.frames_to_sample, 2 * default.frames_to_sample)
        self.assertEqual(thorough.full_look_every, 1)
        self.assertEqual(thorough.profile, "thorough")

    def test_an_api_upload_can_ask_for_the_thorough_profile(self):
        self.as_user(self.alice)
        response = self.client.post(
            reverse("api:video-upload"),
            {"file": upload(), "profile": "thorough"},
            format="multipart",
        )
        self.assertEqual(response.status_code, 202, response.content)
        self.assertEqual(AnalysisJob.objects.get().profile, "thorough")

    def test_an_unknown_profile_is_refused(self):
        self.as_user(self.alice)
        response = self.client.post(
            reverse("api:video-upload"),
            {"file": upload(), "profile": "ludicrous"},
            format="multipart",
        )
        self.assertError(response, 400, "invalid")
        self.assertFalse(AnalysisJob.objects.exists())

    @override_settings(DETECTION_DEFAULT_PROFILE="thorough")
    def test_uploads_that_choose_none_get_the_sites_default(self):
        self.as_user(self.alice)
        response = self.client.post(
            reverse("api:video-upload"), {"file": upload()}, format="multipart"
        )
        self.assertEqual(response.status_code, 202, response.content)
        self.assertEqual(AnalysisJob.objects.get().profile, "thorough")

    def test_the_web_form_sends_the_chosen_profile(self):
        self.client.force_login(self.alice)
        response = self.client.post(
            reverse("detection:upload"),
            {"file": upload(), "profile": "thorough"},
            format="multipart",
        )
        self.assertEqual(response.status_code, 302)
        self.assertEqual(AnalysisJob.objects.get().profile, "thorough")

    def test_the_web_form_offers_the_profiles(self):
        self.client.force_login(self.alice)
        page = self.client.get(reverse("detection:upload")).content.decode()
        self.assertIn('name="profile"', page)
        self.assertIn("thorough", page)
