from django.test import override_settings
from django.urls import reverse

from tests.base import PlatformTestCase
from tests.factories import PASSWORD, done_job


class ResultPermissionTests(PlatformTestCase):
    def setUp(self):
        super().setUp()
        self.job = done_job(uploader=self.alice)
        self.face = self.job.frames.get().faces.get()
        self.urls = [
            reverse("detection:job_detail", args=[self.job.id]),
            reverse("detection:job_status", args=[self.job.id]),
            reverse("detection:video_file", args=[self.job.id]),
            reverse("detection:face_crop", args=[self.face.id]),
        ]

    def test_anonymous_visitors_are_sent_to_the_login_page(self):
        for url in self.urls + [reverse("detection:job_list")]:
            response = self.client.get(url)
            self.assertEqual(response.status_code, 302, url)
            self.assertTrue(response["Location"].startswith(reverse("accounts:login")), url)

    # A site that lets uploaders see the scores (the default hides them from uploaders:
    # tests/moderation/test_uploader_visibility.py).
    @override_settings(MODERATION_HIDE_SCORES_FROM_UPLOADERS=False)
    def test_the_uploader_sees_her_own_results(self):
        self.client.login(username="alice", password=PASSWORD)
        for url in self.urls:
            self.assertEqual(self.client.get(url).status_code, 200, url)

    def test_another_uploader_cannot_see_them_or_learn_they_exist(self):
        self.client.login(username="bob", password=PASSWORD)
        for url in self.urls:
            self.assertEqual(self.client.get(url).status_code, 404, url)
        self.assertNotContains(
            self.client.get(reverse("detection:job_list")), self.job.video.original_name
        )

    def test_moderators_and_admins_see_every_result(self):
        for username in ("mod", "root"):
            self.client.login(username=username, password=PASSWORD)
            for url in self.urls:
                self.assertEqual(self.client.get(url).status_code, 200, (username, url))
            self.assertContains(
                self.client.get(reverse("detection:job_list")), self.job.video.original_name
            )

    def test_the_list_shows_only_the_uploaders_own_videos(self):
        own = self.job.video.original_name
        other = done_job(uploader=self.bob).video.original_name
        self.client.login(username="alice", password=PASSWORD)
        response = self.client.get(reverse("detection:job_list"))
        self.assertContains(response, own)
        self.assertNotContains(response, other)
