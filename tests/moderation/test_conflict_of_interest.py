"""Case 7: a moderator never decides, nor is offered, their own upload; appeals alike."""

from django.urls import reverse
from rest_framework.test import APIClient

from moderation import services
from moderation.models import ReviewItem, ReviewState
from tests.base import PlatformTestCase
from tests.factories import PASSWORD, UserFactory

from .helpers import decided, routed


class ConflictOfInterestTests(PlatformTestCase):
    def setUp(self):
        super().setUp()
        self.mod2 = UserFactory(username="mod2", role="moderator")
        self.own = routed(uploader=self.mod, probability=0.9)  # mod uploaded this video
        self.other = routed(uploader=self.alice, probability=0.8)

    def test_a_moderator_cannot_claim_their_own_upload(self):
        with self.assertRaisesMessage(services.ReviewConflict, "You uploaded this video"):
            services.review_item_claim(item_id=self.own.pk, moderator=self.mod)
        self.assertIsNone(ReviewItem.objects.get(pk=self.own.pk).claimed_by)

    def test_nor_decide_it_after_someone_else_let_go_of_it(self):
        ReviewItem.objects.filter(pk=self.own.pk).update(
            claimed_by=self.mod, claim_expires_at=services.timezone.now() + services.claim_ttl()
        )
        with self.assertRaises(services.ReviewConflict):
            services.review_item_decide(
                item_id=self.own.pk, moderator=self.mod, decision="real", reason="no_artefacts"
            )
        self.assertEqual(ReviewItem.objects.get(pk=self.own.pk).state, self.own.state)

    def test_another_moderator_decides_it(self):
        item = decided(self.own, self.mod2, "fake")
        self.assertEqual(item.state, ReviewState.CONFIRMED_FAKE)

    def test_the_appeal_of_their_own_upload_goes_to_someone_else_too(self):
        decided(self.own, self.mod2, "fake")
        services.review_item_appeal(
            job_id=self.own.job_id, uploader=self.mod, message="That is me, really."
        )
        with self.assertRaisesMessage(services.ReviewConflict, "You uploaded this video"):
            services.review_item_claim(item_id=self.own.pk, moderator=self.mod)
        third = UserFactory(username="mod3", role="moderator")
        self.assertEqual(
            decided(ReviewItem.objects.get(pk=self.own.pk), third, "real", "no_artefacts").state,
            ReviewState.OVERTURNED_REAL,
        )

    def test_their_own_upload_is_not_offered_in_the_queue_page_or_the_api(self):
        self.client.login(username="mod", password=PASSWORD)
        page = self.client.get(reverse("moderation:queue"))
        shown = {item.pk for item in page.context["page"].object_list}
        self.assertIn(self.other.pk, shown)
        self.assertNotIn(self.own.pk, shown)
        api = APIClient()
        api.force_authenticate(self.mod)
        listed = {row["id"] for row in api.get(reverse("api:review-item-list")).json()["results"]}
        self.assertEqual((self.other.pk in listed, self.own.pk in listed), (True, False))
        api.force_authenticate(self.mod2)  # everyone else is offered it
        listed = {row["id"] for row in api.get(reverse("api:review-item-list")).json()["results"]}
        self.assertIn(self.own.pk, listed)

    def test_the_item_page_says_why_they_may_not_decide(self):
        self.client.login(username="mod", password=PASSWORD)
        response = self.client.get(reverse("moderation:item_detail", args=[self.own.pk]))
        self.assertContains(response, "You uploaded this video")
