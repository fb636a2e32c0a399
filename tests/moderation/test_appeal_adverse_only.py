"""Only an adverse decision (confirmed fake) can be appealed."""

from django.urls import reverse

from moderation import services
from moderation.models import ReviewItem, ReviewState
from tests.api.base import ApiTestCase
from tests.base import PlatformTestCase
from tests.factories import PASSWORD

from .helpers import decided, routed


class FavourableDecisionTests(PlatformTestCase):
    def setUp(self):
        super().setUp()
        self.item = decided(
            routed(uploader=self.alice, probability=0.9), self.mod, "real", "model_error"
        )

    def test_an_appeal_against_a_favourable_decision_is_refused(self):
        with self.assertRaisesMessage(services.ReviewConflict, "in your favour"):
            services.review_item_appeal(
                job_id=self.item.job_id,
                uploader=self.alice,
                message="I want it looked at again anyway.",
            )
        item = ReviewItem.objects.get(pk=self.item.pk)
        self.assertEqual((item.state, item.appealed_at), (ReviewState.OVERTURNED_REAL, None))
        self.assertFalse(item.can_be_appealed)

    def test_the_page_offers_no_appeal_and_a_posted_one_is_refused(self):
        self.client.login(username="alice", password=PASSWORD)
        page = self.client.get(reverse("detection:job_detail", args=[self.item.job_id]))
        self.assertNotContains(page, 'id="appeal-form"')
        self.assertContains(page, "in your favour: there is nothing to appeal")
        response = self.client.post(
            reverse("moderation:job_appeal", args=[self.item.job_id]),
            {"message": "Again please."},
            follow=True,
        )
        self.assertContains(response, "cannot be appealed")
        self.assertIsNone(ReviewItem.objects.get(pk=self.item.pk).appealed_at)


class FavourableDecisionApiTests(ApiTestCase):
    def test_the_api_answers_409(self):
        item = decided(
            routed(uploader=self.alice, probability=0.9), self.mod, "real", "no_artefacts"
        )
        self.as_user(self.alice)
        body = self.assertError(
            self.client.post(reverse("api:job-appeal", args=[item.job_id]), {"message": "why"}),
            409,
            "conflict",
        )
        self.assertIn("in your favour", body["message"])

    def test_an_adverse_decision_can_still_be_appealed(self):
        item = decided(routed(uploader=self.alice, probability=0.9), self.mod, "fake")
        self.as_user(self.alice)
        response = self.client.post(
            reverse("api:job-appeal", args=[item.job_id]), {"message": "It is my own footage."}
        )
        self.assertEqual(response.json()["state"], "appealed")
