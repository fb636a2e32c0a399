from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from moderation import services
from moderation.models import ReviewItem, ReviewState
from tests.base import PlatformTestCase
from tests.factories import UserFactory

from .helpers import decided, later, routed


class DecisionTests(PlatformTestCase):
    def setUp(self):
        super().setUp()
        self.mod2 = UserFactory(username="mod2", role="moderator")
        self.item = routed(uploader=self.alice, probability=0.9)

    def decide(self, moderator, decision="fake", reason="artefacts", **kw):
        return services.review_item_decide(
            item_id=self.item.pk, moderator=moderator, decision=decision, reason=reason, **kw
        )

    def test_confirming_records_the_decision_and_frees_the_claim(self):
        item = decided(self.item, self.mod, "fake")
        self.assertEqual(item.state, ReviewState.CONFIRMED_FAKE)
        self.assertEqual((item.first_decided_by, item.claimed_by), (self.mod, None))
        event = item.events.last()
        self.assertEqual(
            (event.actor, event.from_state, event.to_state, event.reason),
            (self.mod, "flagged", "confirmed_fake", "artefacts"),
        )
        self.assertEqual(event.model_score, 0.9)

    def test_overturning_makes_the_public_status_authentic(self):
        self.assertIn("Waiting", self.item.public_status)
        item = decided(self.item, self.mod, "real", "model_error")
        self.assertEqual(item.state, ReviewState.OVERTURNED_REAL)
        self.assertEqual(item.public_status, "Reviewed by a moderator: authentic")

    def test_deciding_needs_a_claim(self):
        with self.assertRaisesMessage(services.ReviewConflict, "Claim this item"):
            self.decide(self.mod)
        self.assertEqual(ReviewItem.objects.get(pk=self.item.pk).state, ReviewState.FLAGGED)

    def test_a_decision_on_an_expired_claim_is_refused(self):
        with self.settings(MODERATION_CLAIM_MINUTES=20):
            services.review_item_claim(item_id=self.item.pk, moderator=self.mod)
        with self.assertRaises(services.ReviewConflict):
            self.decide(self.mod, now=later(21))
        self.assertEqual(self.item.events.count(), 1)

    def test_two_moderators_can_never_both_decide_the_same_item(self):
        # mod's claim lapses, mod2 takes the item over; both then submit a decision, one
        # after the other, as two browser tabs would.
        with self.settings(MODERATION_CLAIM_MINUTES=20):
            services.review_item_claim(item_id=self.item.pk, moderator=self.mod)
            services.review_item_claim(item_id=self.item.pk, moderator=self.mod2, now=later(21))
        item = self.decide(self.mod2, "real", "model_error", now=later(22))
        with self.assertRaises(services.ReviewConflict):
            self.decide(self.mod, "fake", now=later(22))
        item.refresh_from_db()
        self.assertEqual(
            (item.state, item.first_decided_by), (ReviewState.OVERTURNED_REAL, self.mod2)
        )
        self.assertEqual(item.events.filter(actor__isnull=False).count(), 1)

    def test_the_same_moderator_cannot_decide_twice(self):
        decided(self.item, self.mod, "fake")
        with self.assertRaisesMessage(services.ReviewConflict, "already decided"):
            self.decide(self.mod, "real", "model_error")

    def test_escalation_goes_to_another_moderator(self):
        services.review_item_claim(item_id=self.item.pk, moderator=self.mod)
        item = self.decide(self.mod, "escalate", "second_opinion", note="lighting?")
        self.assertEqual(item.state, ReviewState.ESCALATED)
        with self.assertRaisesMessage(services.ReviewConflict, "another moderator decides"):
            services.review_item_claim(item_id=self.item.pk, moderator=self.mod)
        item = decided(item, self.mod2, "fake")
        self.assertEqual(
            (item.state, item.first_decided_by), (ReviewState.CONFIRMED_FAKE, self.mod2)
        )

    def test_reason_codes_come_from_the_list_and_other_needs_a_note(self):
        services.review_item_claim(item_id=self.item.pk, moderator=self.mod)
        for decision, reason in (
            ("fake", "made_up"),
            ("fake", "routed_flagged"),
            ("fake", "other"),
            ("burn", "artefacts"),
        ):
            with self.assertRaises(ValidationError):
                self.decide(self.mod, decision, reason)
        self.assertEqual(
            self.decide(self.mod, "fake", "other", note="seen before").state,
            ReviewState.CONFIRMED_FAKE,
        )

    def test_the_database_refuses_a_claim_without_an_expiry(self):
        with self.assertRaises(IntegrityError), transaction.atomic():
            ReviewItem.objects.filter(pk=self.item.pk).update(claimed_by=self.mod)
