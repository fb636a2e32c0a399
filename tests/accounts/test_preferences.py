"""Per-user preferences: time zone (named on every page), face-only review mode, muted videos,
e-mail notifications."""

import zoneinfo

from django.urls import reverse

from tests.base import PlatformTestCase
from tests.factories import PASSWORD
from tests.moderation.helpers import routed


class PreferencesTests(PlatformTestCase):
    def test_defaults_are_utc_muted_and_face_only_off(self):
        self.assertEqual(
            (self.mod.time_zone, self.mod.review_muted, self.mod.face_only_mode),
            ("UTC", True, "off"),
        )

    def test_times_are_shown_in_the_users_zone_with_its_name(self):
        item = routed(uploader=self.alice, probability=0.9)
        self.client.login(username="mod", password=PASSWORD)
        response = self.client.post(
            reverse("accounts:preferences"),
            {
                "time_zone": "Asia/Tokyo",
                "face_only_mode": "blur",
                "review_muted": "on",
                "notify_by_email": "",
            },
            follow=True,
        )
        self.assertContains(response, "Preferences saved")
        self.mod.refresh_from_db()
        self.assertEqual(
            (self.mod.time_zone, self.mod.face_only_mode, self.mod.notify_by_email),
            ("Asia/Tokyo", "blur", False),
        )
        page = self.client.get(reverse("moderation:queue"))
        self.assertContains(page, "times in Asia/Tokyo")
        local = item.job.created_at.astimezone(zoneinfo.ZoneInfo("Asia/Tokyo"))
        self.assertContains(page, local.strftime("%Y-%m-%d %H:%M JST"))
        evidence = self.client.get(reverse("moderation:item_detail", args=[item.pk]))
        self.assertContains(evidence, 'class="workbench face-only-blur"')
        self.assertContains(evidence, "muted data-fps")

    def test_an_unknown_zone_is_refused(self):
        self.client.login(username="mod", password=PASSWORD)
        response = self.client.post(
            reverse("accounts:preferences"), {"time_zone": "Mars/Olympus", "face_only_mode": "off"}
        )
        self.assertEqual(response.status_code, 400)
        self.mod.refresh_from_db()
        self.assertEqual(self.mod.time_zone, "UTC")

    def test_sound_can_be_on_by_default(self):
        item = routed(uploader=self.alice, probability=0.9)
        self.mod.review_muted = False
        self.mod.save()
        self.client.login(username="mod", password=PASSWORD)
        page = self.client.get(reverse("moderation:item_detail", args=[item.pk]))
        self.assertNotContains(page, "muted data-fps")

    def test_a_zone_no_longer_known_falls_back_to_utc(self):
        type(self.mod).objects.filter(pk=self.mod.pk).update(time_zone="Nowhere/Gone")
        self.client.login(username="mod", password=PASSWORD)
        page = self.client.get(reverse("moderation:queue"))
        self.assertEqual(page.status_code, 200)
        # The page says which zone its times are really in.
        self.assertContains(page, "times in UTC")
        self.assertNotContains(page, "Nowhere/Gone")
