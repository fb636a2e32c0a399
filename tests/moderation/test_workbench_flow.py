"""Claim next per queue, the next item after a decision, skipping, bulk decisions."""

from django.urls import reverse

from moderation import services
from moderation.models import ReviewItem, ReviewState
from tests.base import PlatformTestCase
from tests.factories import PASSWORD, UserFactory

from .helpers import routed


class ClaimNextTests(PlatformTestCase):
    def setUp(self):
        super().setUp()
        self.mod2 = UserFactory(username="mod2", role="moderator")
        self.high = routed(uploader=self.alice, probability=0.99)
        self.low = routed(uploader=self.alice, probability=0.9)
        self.uncertain = routed(uploader=self.alice, verdict="uncertain", probability=0.5)

    def test_claim_next_takes_the_top_item_of_a_queue_nobody_holds(self):
        self.assertEqual(
            services.review_item_claim_next(moderator=self.mod, queue="flagged").pk, self.high.pk
        )
        # Asking again renews one's own claim on the top item rather than hoarding a second.
        self.assertEqual(
            services.review_item_claim_next(moderator=self.mod, queue="flagged").pk, self.high.pk
        )
        self.assertEqual(
            services.review_item_claim_next(moderator=self.mod2, queue="flagged").pk, self.low.pk
        )
        self.assertIsNone(services.review_item_claim_next(moderator=self.root, queue="flagged"))
        self.assertEqual(
            services.review_item_claim_next(moderator=self.root, queue="needs_review").pk,
            self.uncertain.pk,
        )

    def test_after_a_decision_the_next_item_of_the_queue_opens(self):
        self.client.login(username="mod", password=PASSWORD)
        response = self.client.post(reverse("moderation:claim_next", args=["flagged"]))
        self.assertRedirects(response, reverse("moderation:item_detail", args=[self.high.pk]))
        page = self.client.get(response["Location"])
        self.assertContains(page, 'id="decision-form"')
        self.assertContains(page, 'name="next_queue" value="flagged"')
        response = self.client.post(
            reverse("moderation:item_decide", args=[self.high.pk]),
            {"decision": "fake", "reason": "artefacts", "next_queue": "flagged"},
            follow=True,
        )
        self.assertEqual(
            response.redirect_chain[-1][0], reverse("moderation:item_detail", args=[self.low.pk])
        )
        self.assertContains(response, "Decision recorded: confirmed fake")
        self.assertContains(response, 'id="previous-item"')
        self.assertEqual(ReviewItem.objects.get(pk=self.low.pk).claimed_by, self.mod)
        response = self.client.post(
            reverse("moderation:item_decide", args=[self.low.pk]),
            {"decision": "real", "reason": "no_artefacts", "next_queue": "flagged"},
            follow=True,
        )
        self.assertEqual(response.redirect_chain[-1][0], reverse("moderation:queue"))
        self.assertContains(response, "Nothing left for you in “Flagged”")

    def test_skip_releases_the_item_and_takes_the_next(self):
        services.review_item_claim(item_id=self.high.pk, moderator=self.mod)
        self.client.login(username="mod", password=PASSWORD)
        skip = reverse("moderation:item_release", args=[self.high.pk])
        response = self.client.post(skip, {"then": "next"})
        # The skipped item is free again but comes after the rest of its queue.
        self.assertRedirects(response, reverse("moderation:item_detail", args=[self.low.pk]))
        self.assertIsNone(ReviewItem.objects.get(pk=self.high.pk).claimed_by)
        response = self.client.post(
            reverse("moderation:item_release", args=[self.low.pk]), {"then": "next"}
        )
        # Nothing else is left: the skipped items come round again, in the queue's order.
        self.assertRedirects(response, reverse("moderation:item_detail", args=[self.high.pk]))

    def test_the_queue_offers_claim_next_per_queue(self):
        self.client.login(username="mod", password=PASSWORD)
        page = self.client.get(reverse("moderation:queue"))
        for key in ("flagged", "needs_review", "escalated", "appealed", "waiting"):
            self.assertContains(page, reverse("moderation:claim_next", args=[key]))
        self.assertContains(page, 'disabled id="claim-next-escalated"')


class BulkDecisionTests(PlatformTestCase):
    def test_a_bulk_decision_is_recorded_per_item(self):
        mod2 = UserFactory(username="mod2", role="moderator")
        items = [routed(uploader=self.alice, probability=p) for p in (0.91, 0.92, 0.93)]
        services.review_item_claim(item_id=items[2].pk, moderator=mod2)  # someone holds it
        self.client.login(username="mod", password=PASSWORD)
        response = self.client.post(
            reverse("moderation:bulk_decide"),
            {
                "items": [i.pk for i in items] + [999999],
                "decision": "fake",
                "reason": "known_manipulation",
                "note": "same source as case 12",
            },
            follow=True,
        )
        self.assertContains(response, "Bulk decision recorded on 2 item(s)")
        self.assertContains(response, f"Item {items[2].pk} skipped: Another moderator")
        self.assertContains(response, "Item 999999 skipped: No such item.")
        for item in items[:2]:
            item.refresh_from_db()
            self.assertEqual(item.state, ReviewState.CONFIRMED_FAKE)
            event = item.events.last()
            self.assertEqual(
                (event.actor, event.reason, event.note),
                (self.mod, "known_manipulation", "same source as case 12"),
            )
        self.assertEqual(ReviewItem.objects.get(pk=items[2].pk).state, ReviewState.FLAGGED)

    def test_a_mismatched_bulk_reason_is_refused_by_the_form(self):
        item = routed(uploader=self.alice, probability=0.91)
        self.client.login(username="mod", password=PASSWORD)
        response = self.client.post(
            reverse("moderation:bulk_decide"),
            {"items": [item.pk], "decision": "real", "reason": "artefacts"},
            follow=True,
        )
        self.assertContains(response, "Bulk decision refused")
        self.assertEqual(ReviewItem.objects.get(pk=item.pk).state, ReviewState.FLAGGED)
