from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse

from detection import callback_urls, services
from detection.models import Video

from .base import ApiTestCase


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.org/hook",
        "file:///etc/passwd",
        "javascript:alert(1)",
        "http:///no-host",
        "http://127.0.0.1:8000/hook",
        "http://localhost/hook",
        "http://[::1]/hook",
        "http://10.1.2.3/hook",
        "http://192.168.0.10/hook",
        "http://172.16.5.5/hook",
        "http://169.254.169.254/latest/meta-data/",  # cloud metadata (link-local)
        "http://100.64.0.1/hook",  # carrier-grade NAT (shared)
        "http://0.0.0.0/hook",
        "http://240.0.0.1/hook",  # reserved
        "http://[::ffff:127.0.0.1]/hook",  # loopback hidden in an IPv4-mapped IPv6 address
        "http://[fe80::1]/hook",
        "http://host.invalid/hook",  # does not resolve
        "http://example.org:99999/hook",
    ],
)
def test_it_refuses_non_http_private_and_unresolvable_urls(url):
    with pytest.raises(callback_urls.CallbackUrlRefused):
        callback_urls.callback_url_check(url, allow_private=False)


def test_it_accepts_a_public_address():
    callback_urls.callback_url_check("https://93.184.215.14/hook", allow_private=False)


def test_every_resolved_address_must_be_public():
    answers = [(2, 1, 6, "", ("93.184.215.14", 443)), (2, 1, 6, "", ("10.0.0.1", 443))]
    with (
        mock.patch("socket.getaddrinfo", return_value=answers),
        pytest.raises(callback_urls.CallbackUrlRefused, match="non-public"),
    ):
        callback_urls.callback_url_check("https://two-faced.example/hook", allow_private=False)


def test_the_setting_allows_private_addresses_for_local_testing():
    callback_urls.callback_url_check("http://127.0.0.1:8000/hook", allow_private=True)
    with pytest.raises(callback_urls.CallbackUrlRefused):  # the scheme is still checked
        callback_urls.callback_url_check("ftp://127.0.0.1/hook", allow_private=True)


@override_settings(WEBHOOK_ALLOW_PRIVATE_URLS=False)
def test_the_service_answers_a_field_error():
    with pytest.raises(ValidationError) as info:
        services.callback_url_validate(url="http://127.0.0.1/hook")
    assert "callback_url" in info.value.message_dict


class UploadCallbackUrlTests(ApiTestCase):
    @override_settings(WEBHOOK_ALLOW_PRIVATE_URLS=False)
    def test_an_upload_with_a_private_callback_url_is_refused_and_stores_nothing(self):
        self.as_user(self.alice)
        response = self.client.post(
            reverse("api:video-upload"),
            {
                "file": SimpleUploadedFile("a.mp4", b"video bytes"),
                "callback_url": "http://169.254.169.254/latest/",
            },
            format="multipart",
        )
        body = self.assertError(response, 400, "invalid")
        self.assertIn("non-public", body["field_errors"]["callback_url"][0])
        self.assertFalse(Video.objects.exists())

    def test_a_non_url_is_refused(self):
        self.as_user(self.alice)
        response = self.client.post(
            reverse("api:video-upload"),
            {"file": SimpleUploadedFile("a.mp4", b"video bytes"), "callback_url": "not a url"},
            format="multipart",
        )
        body = self.assertError(response, 400, "invalid")
        self.assertIn("callback_url", body["field_errors"])
