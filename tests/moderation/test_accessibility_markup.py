"""The workbench's markup for keyboard users: skip link, focusable timeline points, the
shortcut list behind ?, no inline scripts."""

import re

from django.urls import reverse

from detection.models import FrameResult
from tests.base import PlatformTestCase
from tests.factories import PASSWORD

from .helpers import routed


class AccessibleMarkupTests(PlatformTestCase):
    def test_the_evidence_page_is_keyboard_friendly_and_has_no_inline_script(self):
        item = routed(uploader=self.alice, probability=0.9)
        FrameResult.objects.create(
            job=item.job, frame_index=1, timestamp_s=1.0, fake_probability=0.7
        )
        self.client.login(username="mod", password=PASSWORD)
        page = self.client.get(reverse("moderation:item_detail", args=[item.pk]))
        html = page.content.decode()
        self.assertIn('<a class="skip-link" href="#main">', html)
        self.assertIn('<main id="main" tabindex="-1">', html)
        self.assertEqual(
            len(
                re.findall(
                    r'<circle[^>]*class="point"[^>]*tabindex="0" '
                    r'role="button"',
                    html,
                )
            ),
            2,
        )
        self.assertIn('<dialog id="shortcuts"', html)
        self.assertIn("<kbd>?</kbd>", html)
        # CSP without inline scripts: only <script src=...>, no on...= handlers.
        self.assertEqual(re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html), [])
        self.assertIsNone(re.search(r"\son[a-z]+=", html))
