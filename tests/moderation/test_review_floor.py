"""A site can send scores below the model's uncertain band to review (MODERATION_REVIEW_FLOOR)."""

import os
import subprocess
import sys
from pathlib import Path

from django.test import override_settings

from detection.selectors import model_version_active
from moderation.models import ReasonCode, ReviewState
from tests.base import PlatformTestCase
from tests.factories import model_version_set_bands

from .helpers import routed


class ReviewFloorTests(PlatformTestCase):
    def setUp(self):
        super().setUp()
        active = model_version_active()
        self.version = model_version_set_bands(
            active, face=active.face_band, video=(0.3, 0.6), threshold=active.fake_threshold
        )

    def test_without_a_floor_scores_below_the_band_are_auto_cleared(self):
        item = routed(uploader=self.alice, verdict="real", probability=0.2)
        self.assertEqual(item.state, ReviewState.AUTO_CLEARED)
        self.assertEqual(item.events.get().reason, ReasonCode.ROUTED_CLEARED)

    @override_settings(MODERATION_REVIEW_FLOOR=0.1)
    def test_scores_between_the_floor_and_the_band_go_to_review_and_say_why(self):
        item = routed(uploader=self.alice, verdict="real", probability=0.1)
        self.assertEqual(item.state, ReviewState.NEEDS_REVIEW)
        event = item.events.get()
        self.assertEqual(event.reason, ReasonCode.ROUTED_REVIEW_FLOOR)
        self.assertIn("site review floor 0.1", event.note)
        self.assertIn("band 0.3–0.6", event.note)

    @override_settings(MODERATION_REVIEW_FLOOR=0.1)
    def test_scores_below_the_floor_are_still_auto_cleared(self):
        item = routed(uploader=self.alice, verdict="real", probability=0.099)
        self.assertEqual(item.state, ReviewState.AUTO_CLEARED)

    @override_settings(MODERATION_REVIEW_FLOOR=0.1)
    def test_the_band_and_the_flag_threshold_keep_their_own_reasons(self):
        uncertain = routed(uploader=self.alice, verdict="uncertain", probability=0.3)
        flagged = routed(uploader=self.alice, verdict="fake", probability=0.6)
        self.assertEqual(uncertain.events.get().reason, ReasonCode.ROUTED_UNCERTAIN)
        self.assertEqual(flagged.state, ReviewState.FLAGGED)

    @override_settings(MODERATION_REVIEW_FLOOR=0.5)
    def test_a_floor_inside_the_band_changes_nothing(self):
        item = routed(uploader=self.alice, verdict="uncertain", probability=0.35)
        self.assertEqual(item.state, ReviewState.NEEDS_REVIEW)
        self.assertEqual(item.events.get().reason, ReasonCode.ROUTED_UNCERTAIN)
        self.assertEqual(
            routed(uploader=self.alice, verdict="real", probability=0.2).state,
            ReviewState.AUTO_CLEARED,
        )

    @override_settings(MODERATION_REVIEW_FLOOR=0.1)
    def test_videos_without_a_face_are_routed_by_their_own_setting(self):
        item = routed(uploader=self.alice, verdict="no_face", probability=None, faces=False)
        self.assertEqual(item.events.get().reason, ReasonCode.ROUTED_NO_FACE)


def test_a_floor_that_is_not_a_probability_stops_the_site_from_starting():
    root = Path(__file__).resolve().parents[2]
    for value, message in (("1.5", "between 0 and 1"), ("lots", "must be a number")):
        env = {
            **os.environ,
            "MODERATION_REVIEW_FLOOR": value,
            "DJANGO_SETTINGS_MODULE": "deepfake_site.settings",
        }
        run = subprocess.run(
            [sys.executable, "-c", "import django; django.setup()"],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert run.returncode != 0
        assert "MODERATION_REVIEW_FLOOR" in run.stderr and message in run.stderr
