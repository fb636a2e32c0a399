from unittest import mock

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from rest_framework.throttling import SimpleRateThrottle

from .base import ApiTestCase


def rates(**rates):
    # DRF reads the rates into a class attribute at import: patch that, not the settings.
    return mock.patch.object(
        SimpleRateThrottle,
        "THROTTLE_RATES",
        {"user": "1000/min", "anon": "1000/min", "uploads": "1000/min", **rates},
    )


class ThrottlingTests(ApiTestCase):
    def test_a_user_over_the_rate_gets_429_with_retry_after(self):
        self.as_user(self.alice)
        url = reverse("api:job-list")
        with rates(user="3/min"):
            statuses = [self.client.get(url).status_code for _ in range(3)]
            response = self.client.get(url)
        self.assertEqual(statuses, [200, 200, 200])
        body = self.assertError(response, 429, "throttled")
        self.assertIn("throttled", body["message"].lower())
        self.assertTrue(0 < int(response["Retry-After"]) <= 60)

    def test_the_rate_is_per_user(self):
        url = reverse("api:job-list")
        with rates(user="1/min"):
            self.as_user(self.alice)
            self.assertEqual(self.client.get(url).status_code, 200)
            self.assertEqual(self.client.get(url).status_code, 429)
            self.as_user(self.bob)
            self.assertEqual(self.client.get(url).status_code, 200)

    def test_uploads_have_their_own_tighter_rate(self):
        self.as_user(self.alice)
        url = reverse("api:video-upload")
        with rates(uploads="1/min"), mock.patch("detection.services.job_enqueue"):
            first = self.client.post(
                url, {"file": SimpleUploadedFile("a.mp4", b"one")}, format="multipart"
            )
            second = self.client.post(
                url, {"file": SimpleUploadedFile("b.mp4", b"two")}, format="multipart"
            )
            listing = self.client.get(reverse("api:job-list"))
        self.assertEqual(first.status_code, 202)
        self.assertError(second, 429, "throttled")
        self.assertIn("Retry-After", second)
        self.assertEqual(listing.status_code, 200)  # other calls are not blocked

    def test_password_guessing_is_throttled_per_address(self):
        url = reverse("api:token-obtain")
        with rates(anon="2/min"):
            for _ in range(2):
                self.client.post(url, {"username": "alice", "password": "guess"})
            response = self.client.post(url, {"username": "alice", "password": "guess"})
        self.assertError(response, 429, "throttled")
        self.assertIn("Retry-After", response)
