import datetime as dt

from django.urls import reverse

from detection.models import AnalysisJob
from detection.selectors import model_version_active
from tests.base import PlatformTestCase
from tests.factories import PASSWORD, model_version_like_active

from .helpers import decided, routed


class ReviewQueueTests(PlatformTestCase):
    url = reverse("moderation:queue")

    def setUp(self):
        super().setUp()
        self.client.login(username="mod", password=PASSWORD)

    def listed(self, **params):
        response = self.client.get(self.url, params)
        self.assertEqual(response.status_code, 200)
        return list(response.context["page"].object_list)

    def test_it_lists_what_waits_for_a_moderator_most_confident_fakes_first(self):
        cleared = routed(uploader=self.alice, verdict="real", probability=0.05)
        unsure = routed(uploader=self.alice, verdict="uncertain", probability=0.5)
        fake = routed(uploader=self.bob, verdict="fake", probability=0.97)
        noface = routed(uploader=self.bob, verdict="no_face", probability=None, faces=False)
        done = decided(routed(uploader=self.bob, probability=0.99), self.mod)
        items = self.listed()
        self.assertEqual(items, [fake, unsure, noface])
        self.assertNotIn(cleared, items)
        self.assertNotIn(done, items)

    def test_equal_scores_are_served_oldest_first(self):
        newer, older = (routed(uploader=self.alice, probability=0.9) for _ in range(2))
        AnalysisJob.objects.filter(pk=older.job_id).update(
            created_at=newer.job.created_at - dt.timedelta(hours=1)
        )
        self.assertEqual(self.listed(), [older, newer])

    def test_it_filters_by_state_model_uploader_and_date(self):
        cleared = routed(uploader=self.alice, verdict="real", probability=0.05)
        fake = routed(uploader=self.bob, probability=0.95)
        self.assertEqual(self.listed(state="auto_cleared"), [cleared])
        self.assertEqual(self.listed(state="all"), [fake, cleared])
        self.assertEqual(self.listed(state="all", uploader="ALICE"), [cleared])
        other = model_version_like_active(name="other", version="2")
        self.assertEqual(self.listed(model_version=model_version_active().pk), [fake])
        self.assertEqual(self.listed(model_version=other.pk), [])
        today = fake.job.created_at.date()
        self.assertEqual(self.listed(uploaded_from=today.isoformat()), [fake])
        self.assertEqual(self.listed(uploaded_to=(today - dt.timedelta(days=1)).isoformat()), [])

    def test_it_searches_names_uploaders_and_hashes(self):
        item = routed(uploader=self.alice, probability=0.9)
        routed(uploader=self.bob, probability=0.8)
        self.assertEqual(self.listed(q=item.job.video.original_name), [item])
        self.assertEqual(self.listed(q="ali"), [item])
        self.assertEqual(len(self.listed(q=item.job.video.sha256[:12])), 2)
        self.assertEqual(self.listed(q="nothing-like-this"), [])

    def test_bad_filter_values_get_a_clear_error(self):
        routed(uploader=self.alice, probability=0.9)
        response = self.client.get(self.url, {"uploaded_from": "yesterday", "state": "bogus"})
        self.assertContains(response, "Enter a valid date")
        self.assertContains(response, "Select a valid choice")

    def test_the_page_links_each_item_to_its_evidence(self):
        item = routed(uploader=self.alice, probability=0.9)
        self.assertContains(
            self.client.get(self.url), reverse("moderation:item_detail", args=[item.pk])
        )
