"""Uploaders see the verdict and the statement of reasons; scores and crops only when the site
allows (MODERATION_HIDE_SCORES_FROM_UPLOADERS, on by default). Moderators see everything."""

from django.test import override_settings
from django.urls import reverse

from tests.api.base import ApiTestCase
from tests.factories import PASSWORD

from .helpers import decided, routed


class UploaderVisibilityTests(ApiTestCase):
    def setUp(self):
        super().setUp()
        self.item = decided(routed(uploader=self.alice, probability=0.91), self.mod, "fake")
        self.job = self.item.job
        self.face = self.job.frames.get().faces.get()
        self.page = reverse("detection:job_detail", args=[self.job.id])
        self.crop = reverse("detection:face_crop", args=[self.face.id])
        self.api = reverse("api:job-detail", args=[self.job.id])

    def test_uploaders_dont_see_scores_when_the_setting_is_on(self):
        self.client.login(username="alice", password=PASSWORD)
        page = self.client.get(self.page)
        self.assertContains(page, "Reviewed by a moderator: manipulated")
        self.assertContains(page, 'id="statement-of-reasons"')
        self.assertContains(page, 'id="scores-hidden"')
        for hidden in ('<svg class="timeline"', 'id="frame-table"', self.crop):
            self.assertNotContains(page, hidden)
        self.assertEqual(self.client.get(self.crop).status_code, 404)
        self.as_user(self.alice)
        body = self.client.get(self.api).json()
        self.assertEqual((body["frames"], body["persons"], body["scores_hidden"]), ([], [], True))
        self.assertEqual(body["verdict"], "fake")
        self.assertEqual(body["moderation"]["statement"]["decision"], "manipulated")

    def test_moderators_always_see_everything(self):
        self.client.login(username="mod", password=PASSWORD)
        page = self.client.get(self.page)
        self.assertContains(page, '<svg class="timeline"')
        self.assertContains(page, self.crop)
        self.assertEqual(self.client.get(self.crop).status_code, 200)
        self.as_user(self.mod)
        body = self.client.get(self.api).json()
        self.assertEqual((len(body["frames"]), body["scores_hidden"]), (1, False))

    @override_settings(MODERATION_HIDE_SCORES_FROM_UPLOADERS=False)
    def test_a_site_can_show_uploaders_the_scores(self):
        self.client.login(username="alice", password=PASSWORD)
        self.assertContains(self.client.get(self.page), '<svg class="timeline"')
        self.assertEqual(self.client.get(self.crop).status_code, 200)
