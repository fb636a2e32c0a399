from django.core.exceptions import PermissionDenied

from moderation import services
from moderation.models import ReviewItem
from tests.base import PlatformTestCase
from tests.factories import UserFactory

from .helpers import later, routed


class ClaimTests(PlatformTestCase):
    def setUp(self):
        super().setUp()
        self.mod2 = UserFactory(username="mod2", role="moderator")
        self.item = routed(uploader=self.alice)

    def test_a_moderator_claims_an_open_item_until_the_claim_expires(self):
        with self.settings(MODERATION_CLAIM_MINUTES=15):
            item = services.review_item_claim(item_id=self.item.pk, moderator=self.mod)
        self.assertEqual(item.claimed_by, self.mod)
        minutes = (item.claim_expires_at - item.updated_at).total_seconds() / 60
        self.assertAlmostEqual(minutes, 15, places=3)

    def test_a_second_moderator_cannot_claim_a_held_item(self):
        services.review_item_claim(item_id=self.item.pk, moderator=self.mod)
        with self.assertRaisesMessage(services.ReviewConflict, "Another moderator"):
            services.review_item_claim(item_id=self.item.pk, moderator=self.mod2)
        self.assertEqual(ReviewItem.objects.get(pk=self.item.pk).claimed_by, self.mod)

    def test_an_expired_claim_can_be_taken_by_another_moderator(self):
        services.review_item_claim(item_id=self.item.pk, moderator=self.mod)
        after_expiry = later(25)
        with self.settings(MODERATION_CLAIM_MINUTES=20):
            item = services.review_item_claim(
                item_id=self.item.pk, moderator=self.mod2, now=after_expiry
            )
        self.assertEqual(item.claimed_by, self.mod2)

    def test_a_claim_is_still_held_just_before_it_expires(self):
        with self.settings(MODERATION_CLAIM_MINUTES=20):
            services.review_item_claim(item_id=self.item.pk, moderator=self.mod)
            with self.assertRaises(services.ReviewConflict):
                services.review_item_claim(item_id=self.item.pk, moderator=self.mod2, now=later(19))

    def test_the_holder_can_renew_and_release_a_claim(self):
        first = services.review_item_claim(item_id=self.item.pk, moderator=self.mod)
        renewed = services.review_item_claim(item_id=self.item.pk, moderator=self.mod, now=later(5))
        self.assertGreater(renewed.claim_expires_at, first.claim_expires_at)
        self.assertFalse(services.review_item_release(item_id=self.item.pk, moderator=self.mod2))
        self.assertTrue(services.review_item_release(item_id=self.item.pk, moderator=self.mod))
        item = ReviewItem.objects.get(pk=self.item.pk)
        self.assertIsNone(item.claimed_by)
        self.assertIsNone(item.claim_expires_at)

    def test_decided_items_cannot_be_claimed(self):
        services.review_item_claim(item_id=self.item.pk, moderator=self.mod)
        services.review_item_decide(
            item_id=self.item.pk, moderator=self.mod, decision="fake", reason="artefacts"
        )
        with self.assertRaisesMessage(services.ReviewConflict, "already decided"):
            services.review_item_claim(item_id=self.item.pk, moderator=self.mod2)

    def test_uploaders_cannot_claim(self):
        with self.assertRaises(PermissionDenied):
            services.review_item_claim(item_id=self.item.pk, moderator=self.alice)
