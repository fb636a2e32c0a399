from django.urls import reverse

from tests.base import PlatformTestCase
from tests.factories import PASSWORD, done_job


class ReviewQueueTests(PlatformTestCase):
    url = reverse("moderation:queue")

    def test_it_lists_what_needs_review_most_confident_fakes_first(self):
        cleared = done_job(uploader=self.alice, verdict="real", probability=0.05)
        unsure = done_job(uploader=self.alice, verdict="uncertain", probability=0.5)
        fake = done_job(uploader=self.bob, verdict="fake", probability=0.97)
        noface = done_job(uploader=self.bob, verdict="no_face", probability=None, faces=False)
        self.client.login(username="mod", password=PASSWORD)
        jobs = list(self.client.get(self.url).context["page"].object_list)
        self.assertEqual(jobs, [fake, unsure, noface])
        self.assertNotIn(cleared, jobs)

    def test_uploaders_cannot_open_it(self):
        self.client.login(username="alice", password=PASSWORD)
        self.assertEqual(self.client.get(self.url).status_code, 403)

    def test_anonymous_visitors_are_sent_to_log_in(self):
        self.assertEqual(self.client.get(self.url).status_code, 302)
