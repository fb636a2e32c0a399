"""Each decision has its own reasons: a reason that does not fit is refused everywhere."""

from django.core.exceptions import ValidationError
from django.urls import reverse

from moderation import services
from moderation.models import REASONS_BY_DECISION, ReviewItem, ReviewState
from tests.api.base import ApiTestCase
from tests.base import PlatformTestCase
from tests.factories import PASSWORD

from .helpers import routed


class ReasonFitServiceTests(PlatformTestCase):
    def setUp(self):
        super().setUp()
        self.item = routed(uploader=self.alice, probability=0.9)
        services.review_item_claim(item_id=self.item.pk, moderator=self.mod)

    def test_it_refuses_confirmed_fake_for_a_verified_authentic_source(self):
        with self.assertRaisesMessage(ValidationError, "does not fit"):
            services.review_item_decide(
                item_id=self.item.pk, moderator=self.mod, decision="fake", reason="authentic_source"
            )
        self.assertEqual(ReviewItem.objects.get(pk=self.item.pk).state, ReviewState.FLAGGED)
        self.assertEqual(self.item.events.count(), 1)

    def test_every_decision_has_reasons_of_its_own(self):
        fake, real, esc = (set(REASONS_BY_DECISION[d]) for d in ("fake", "real", "escalate"))
        self.assertEqual(fake & real, {"other"})
        self.assertEqual(fake & esc, {"other"})
        for decision, reason in (
            ("real", "artefacts"),
            ("escalate", "model_error"),
            ("fake", "second_opinion"),
        ):
            with self.assertRaises(ValidationError):
                services.review_item_decide(
                    item_id=self.item.pk, moderator=self.mod, decision=decision, reason=reason
                )

    def test_a_bulk_decision_with_a_mismatched_reason_touches_nothing(self):
        other = routed(uploader=self.alice, probability=0.95)
        with self.assertRaises(ValidationError):
            services.review_items_decide_bulk(
                item_ids=[self.item.pk, other.pk],
                moderator=self.mod,
                decision="real",
                reason="artefacts",
            )
        self.assertEqual(ReviewItem.objects.filter(state=ReviewState.FLAGGED).count(), 2)


class ReasonFitWebTests(PlatformTestCase):
    def test_the_form_refuses_a_mismatch_with_a_clear_error(self):
        item = routed(uploader=self.alice, probability=0.9)
        self.client.login(username="mod", password=PASSWORD)
        self.client.post(reverse("moderation:item_claim", args=[item.pk]))
        response = self.client.post(
            reverse("moderation:item_decide", args=[item.pk]),
            {"decision": "fake", "reason": "authentic_source"},
        )
        self.assertEqual(response.status_code, 400)
        self.assertContains(response, "is not a reason for", status_code=400)
        self.assertEqual(ReviewItem.objects.get(pk=item.pk).state, ReviewState.FLAGGED)

    def test_the_page_says_which_decisions_each_reason_fits(self):
        item = routed(uploader=self.alice, probability=0.9)
        self.client.login(username="mod", password=PASSWORD)
        self.client.post(reverse("moderation:item_claim", args=[item.pk]))
        page = self.client.get(reverse("moderation:item_detail", args=[item.pk]))
        self.assertContains(page, '<option value="authentic_source" data-for="real">')
        self.assertContains(page, '<option value="other" data-for="fake real escalate">')


class ReasonFitApiTests(ApiTestCase):
    def test_the_api_refuses_a_mismatch_as_a_field_error(self):
        item = routed(uploader=self.alice, probability=0.9)
        self.as_user(self.mod)
        self.client.post(reverse("api:review-item-claim", args=[item.pk]))
        body = self.assertError(
            self.client.post(
                reverse("api:review-item-decide", args=[item.pk]),
                {"decision": "fake", "reason": "authentic_source"},
            ),
            400,
            "invalid",
        )
        self.assertIn("reason", body["field_errors"])
        self.assertEqual(ReviewItem.objects.get(pk=item.pk).state, ReviewState.FLAGGED)
        response = self.client.post(
            reverse("api:review-item-decide", args=[item.pk]),
            {"decision": "real", "reason": "authentic_source"},
        )
        self.assertEqual(response.json()["state"], "overturned_real")
