"""The job page's frame chart and its legend write the bands' numbers: the face band the frame
scores are drawn against, the face threshold, and the video band the verdict uses."""

import re

from django.urls import reverse

from detection.selectors import model_version_active
from tests.base import PlatformTestCase
from tests.factories import PASSWORD, done_job, model_version_set_bands


def legend(page) -> str:
    (text,) = re.findall(r'<p class="muted legend">(.*?)</p>', page.content.decode(), re.S)
    return text


class JobPageBandLegendTests(PlatformTestCase):
    def setUp(self):
        super().setUp()
        model_version_set_bands(model_version_active(), face=(0.35, 0.65), video=(0.427, 0.673))
        self.job = done_job(uploader=self.alice, verdict="uncertain", probability=0.6)
        self.client.login(username="mod", password=PASSWORD)  # a moderator sees the scores

    def test_the_legend_writes_the_face_band_the_threshold_and_the_video_band(self):
        text = legend(self.client.get(reverse("detection:job_detail", args=[self.job.id])))
        self.assertIn("face band 0.35–0.65 (frame scores)", text)
        self.assertIn("threshold 0.5", text)
        self.assertIn("video band 0.427–0.673 (fake from 0.673, real under 0.427)", text)

    def test_the_chart_names_the_band_it_draws(self):
        page = self.client.get(reverse("detection:job_detail", args=[self.job.id]))
        self.assertContains(
            page,
            'aria-label="Fake probability per sampled frame; face band 0.35–0.65 (frame scores)"',
        )
        self.assertContains(page, 'class="label">threshold 0.5</text>')

    def test_the_verdict_line_writes_the_video_band(self):
        page = self.client.get(reverse("detection:job_detail", args=[self.job.id]))
        self.assertContains(page, "Fake when p ≥ 0.673, real when p &lt; 0.427")
