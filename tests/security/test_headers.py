"""Case 11: a Content-Security-Policy without inline scripts, and `Cache-Control: private,
no-store` on private pages, API answers and media."""

import re
from pathlib import Path

from django.core.files import File
from django.test import override_settings
from django.urls import reverse
from rest_framework.test import APIClient

from tests.base import PlatformTestCase
from tests.factories import PASSWORD, done_job

ROOT = Path(__file__).resolve().parents[2]


def _no_store(response):
    value = response.get("Cache-Control", "")
    return "private" in value and "no-store" in value


class HeaderTests(PlatformTestCase):
    def setUp(self):
        super().setUp()
        self.job = done_job(uploader=self.alice)
        with open(ROOT / "tests" / "media.py", "rb") as fh:  # any bytes will do as the file
            self.job.video.file.save("clip.mp4", File(fh), save=True)
        self.client.login(username="alice", password=PASSWORD)

    def test_pages_have_a_csp_without_inline_scripts(self):
        response = self.client.get(reverse("detection:job_detail", args=[self.job.id]))
        policy = response["Content-Security-Policy"]
        directives = dict(d.strip().split(" ", 1) for d in policy.split(";") if d.strip())
        self.assertEqual(directives["script-src"], "'self'")
        self.assertNotIn("unsafe-inline", directives["script-src"])
        self.assertNotIn("unsafe-eval", policy)
        self.assertEqual(directives["frame-ancestors"], "'none'")

    @override_settings(MODERATION_HIDE_SCORES_FROM_UPLOADERS=False)  # the crop is served
    def test_private_pages_api_answers_and_media_are_never_stored(self):
        face = self.job.frames.get().faces.get()
        for url in (
            reverse("detection:job_list"),
            reverse("detection:job_detail", args=[self.job.id]),
            reverse("detection:video_file", args=[self.job.id]),
            reverse("detection:face_crop", args=[face.id]),
            reverse("accounts:api_token"),
        ):
            response = self.client.get(url)
            self.assertEqual(response.status_code, 200, url)
            self.assertTrue(_no_store(response), (url, response.get("Cache-Control")))
        api = APIClient()
        api.force_authenticate(self.alice)
        self.assertTrue(_no_store(api.get(reverse("api:job-detail", args=[self.job.id]))))


def test_no_template_has_an_inline_script_or_event_handler():
    for template in (ROOT / "templates").rglob("*.html"):
        html = template.read_text()
        for tag in re.findall(r"<script\b[^>]*>", html):
            assert "src=" in tag, (template, tag)  # code only from static files
        assert not re.search(r"\son[a-z]+\s*=", html), template
        assert "javascript:" not in html, template


def test_the_api_docs_page_loads_its_start_script_as_a_file(client):
    response = client.get(reverse("api:docs"))
    html = response.content.decode()
    assert response.status_code == 200
    assert not re.search(r"<script>(?!\s*</script>)", html)  # no inline code
    assert (
        "'unsafe-inline'"
        not in response["Content-Security-Policy"].split("script-src")[1].split(";")[0]
    )
