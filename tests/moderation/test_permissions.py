"""Who may open what: anonymous, the uploader (alice), a stranger (bob), a moderator, an admin."""

from django.core.files.base import ContentFile
from django.urls import reverse

from detection.models import FaceResult
from moderation.models import HeatmapOverlay
from tests.base import PlatformTestCase
from tests.factories import PASSWORD

from .helpers import decided, routed


class ModeratorPagesTests(PlatformTestCase):
    def setUp(self):
        super().setUp()
        self.item = routed(uploader=self.alice, probability=0.9)
        face = FaceResult.objects.get(frame__job=self.item.job)
        self.heatmap = HeatmapOverlay(face=face, model_version=self.item.model_version)
        self.heatmap.image.save("h.jpg", ContentFile(b"\xff\xd8\xff\xd9"), save=True)

    def pages(self):
        pk = self.item.pk
        return [
            ("get", reverse("moderation:queue")),
            ("get", reverse("moderation:dashboard")),
            ("get", reverse("moderation:item_detail", args=[pk])),
            ("get", reverse("moderation:heatmap_image", args=[self.heatmap.pk])),
            ("post", reverse("moderation:item_claim", args=[pk])),
            ("post", reverse("moderation:item_release", args=[pk])),
            ("post", reverse("moderation:item_decide", args=[pk])),
            ("post", reverse("moderation:item_heatmaps", args=[pk])),
        ]

    def test_anonymous_visitors_are_sent_to_log_in(self):
        for method, url in self.pages():
            response = getattr(self.client, method)(url)
            self.assertEqual(response.status_code, 302, url)
            self.assertIn(reverse("accounts:login"), response["Location"])

    def test_uploaders_and_strangers_are_refused(self):
        for username in ("alice", "bob"):
            self.client.login(username=username, password=PASSWORD)
            for method, url in self.pages():
                self.assertEqual(
                    getattr(self.client, method)(url).status_code, 403, (username, url)
                )
        self.item.refresh_from_db()
        self.assertIsNone(self.item.claimed_by)

    def test_moderators_and_admins_open_every_page(self):
        for username in ("mod", "root"):
            self.client.login(username=username, password=PASSWORD)
            for _method, url in self.pages()[:4]:
                self.assertEqual(self.client.get(url).status_code, 200, (username, url))
            claim = self.client.post(reverse("moderation:item_claim", args=[self.item.pk]))
            self.assertEqual(claim.status_code, 302)
            self.client.post(reverse("moderation:item_release", args=[self.item.pk]))

    def test_a_missing_item_is_404_for_moderators(self):
        self.client.login(username="mod", password=PASSWORD)
        self.assertEqual(
            self.client.get(reverse("moderation:item_detail", args=[999])).status_code, 404
        )


class UploaderViewTests(PlatformTestCase):
    def setUp(self):
        super().setUp()
        self.item = decided(routed(uploader=self.alice, probability=0.9), self.mod, "fake")
        self.job_url = reverse("detection:job_detail", args=[self.item.job_id])
        self.appeal_url = reverse("moderation:job_appeal", args=[self.item.job_id])

    def test_the_uploader_sees_the_outcome_but_no_moderator_identity(self):
        self.mod.username = "officer_jones"
        self.mod.save()
        self.client.login(username="alice", password=PASSWORD)
        page = self.client.get(self.job_url)
        self.assertContains(page, "Reviewed by a moderator: manipulated")
        self.assertNotContains(page, "officer_jones")
        self.assertNotContains(page, reverse("moderation:item_detail", args=[self.item.pk]))

    def test_moderators_see_a_link_to_the_item(self):
        self.client.login(username="mod", password=PASSWORD)
        self.assertContains(
            self.client.get(self.job_url), reverse("moderation:item_detail", args=[self.item.pk])
        )

    def test_only_the_uploader_can_appeal(self):
        self.assertEqual(self.client.post(self.appeal_url, {"message": "x"}).status_code, 302)
        for username in ("bob", "mod", "root"):
            self.client.login(username=username, password=PASSWORD)
            self.assertEqual(
                self.client.post(self.appeal_url, {"message": "x"}).status_code, 404, username
            )
        self.client.login(username="alice", password=PASSWORD)
        self.assertEqual(self.client.get(self.appeal_url).status_code, 405)
        self.item.refresh_from_db()
        self.assertIsNone(self.item.appealed_at)


class JobListReviewColumnTests(PlatformTestCase):
    def test_uploaders_see_the_review_status_of_their_own_videos_only(self):
        decided(routed(uploader=self.alice, probability=0.9), self.mod, "real", "model_error")
        routed(uploader=self.bob, probability=0.9)
        self.client.login(username="alice", password=PASSWORD)
        with self.assertNumQueries(4):  # session, user, count, page: no query per row
            page = self.client.get(reverse("detection:job_list"))
        self.assertContains(page, "Reviewed by a moderator: authentic")
        self.assertNotContains(page, "Waiting for review")  # bob's video is not listed
