import pytest
from django.core.files.base import ContentFile
from django.urls import reverse

from detection.http_ranges import Unsatisfiable, parse_range
from tests.base import PlatformTestCase
from tests.factories import PASSWORD, done_job


@pytest.mark.parametrize(
    "header, expected",
    [
        (None, None),
        ("", None),
        ("bytes=0-", (0, 99)),
        ("bytes=10-19", (10, 19)),
        ("bytes=90-200", (90, 99)),
        ("bytes=-10", (90, 99)),
        ("bytes=-500", (0, 99)),
        ("bytes=5-1", None),
        ("bytes=0-1,5-6", None),
        ("items=0-1", None),
        ("bytes=-", None),
    ],
)
def test_it_parses_single_byte_ranges(header, expected):
    assert parse_range(header, 100) == expected


@pytest.mark.parametrize("header", ["bytes=100-", "bytes=200-300", "bytes=-0"])
def test_ranges_outside_the_file_are_unsatisfiable(header):
    with pytest.raises(Unsatisfiable):
        parse_range(header, 100)


class VideoRangeTests(PlatformTestCase):
    def setUp(self):
        super().setUp()
        self.job = done_job(uploader=self.alice)
        self.data = bytes(range(256)) * 40
        self.job.video.file.save("clip.mp4", ContentFile(self.data), save=True)
        self.url = reverse("detection:video_file", args=[self.job.id])
        self.client.login(username="alice", password=PASSWORD)

    def test_a_range_is_answered_with_206_and_only_those_bytes(self):
        response = self.client.get(self.url, HTTP_RANGE="bytes=100-299")
        self.assertEqual(response.status_code, 206)
        self.assertEqual(b"".join(response.streaming_content), self.data[100:300])
        self.assertEqual(response["Content-Range"], f"bytes 100-299/{len(self.data)}")
        self.assertEqual(response["Content-Length"], "200")
        self.assertEqual(response["Content-Type"], "video/mp4")
        self.assertEqual(response["Accept-Ranges"], "bytes")

    def test_without_a_range_the_whole_file_is_sent_and_ranges_are_advertised(self):
        response = self.client.get(self.url)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(b"".join(response.streaming_content), self.data)
        self.assertEqual(response["Accept-Ranges"], "bytes")

    def test_a_range_past_the_end_is_416(self):
        response = self.client.get(self.url, HTTP_RANGE=f"bytes={len(self.data)}-")
        self.assertEqual(response.status_code, 416)
        self.assertEqual(response["Content-Range"], f"bytes */{len(self.data)}")

    def test_strangers_get_no_bytes_even_with_a_range(self):
        self.client.login(username="bob", password=PASSWORD)
        self.assertEqual(self.client.get(self.url, HTTP_RANGE="bytes=0-10").status_code, 404)
