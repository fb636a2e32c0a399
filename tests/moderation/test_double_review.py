"""A sample of first decisions goes blind to a second moderator; agreement is reported."""

from django.urls import reverse

from moderation import selectors, services
from moderation.models import ReviewItem, SecondReview
from tests.base import PlatformTestCase
from tests.factories import PASSWORD, UserFactory

from .helpers import decided, routed


class DoubleReviewTests(PlatformTestCase):
    def setUp(self):
        super().setUp()
        self.mod2 = UserFactory(username="mod2", role="moderator")

    def test_nothing_is_sampled_at_rate_zero(self):
        with self.settings(MODERATION_DOUBLE_REVIEW_RATE=0.0):
            decided(routed(uploader=self.alice, probability=0.9), self.mod, "fake")
        self.assertFalse(SecondReview.objects.exists())

    def test_blind_double_review_records_agreement_per_moderator_and_reason(self):
        with self.settings(MODERATION_DOUBLE_REVIEW_RATE=1.0):
            a = decided(routed(uploader=self.alice, probability=0.9), self.mod, "fake")
            b = decided(
                routed(uploader=self.alice, probability=0.8), self.mod, "real", "model_error"
            )
            # An escalation is not a decision to second-guess.
            decided(routed(uploader=self.alice, probability=0.7), self.mod, "escalate", "policy")
        first_a, first_b = (SecondReview.objects.get(item=i) for i in (a, b))
        self.assertEqual(SecondReview.objects.count(), 2)
        # The first moderator never gets their own decision back.
        self.assertFalse(selectors.second_reviews_waiting(self.mod).exists())
        with self.assertRaises(services.ReviewConflict):
            services.second_review_decide(
                review_id=first_a.pk, moderator=self.mod, decision="fake", reason="artefacts"
            )
        services.second_review_decide(
            review_id=first_a.pk, moderator=self.mod2, decision="fake", reason="known_manipulation"
        )
        review = services.second_review_decide(
            review_id=first_b.pk, moderator=self.mod2, decision="fake", reason="artefacts"
        )
        self.assertFalse(review.agrees)
        # The item itself is not changed by a second review.
        self.assertEqual(ReviewItem.objects.get(pk=b.pk).state, "overturned_real")
        report = selectors.second_review_agreement()
        by_mod = {r.key: (r.reviews, r.agreed, r.rate) for r in report["moderator"]}
        self.assertEqual(by_mod, {"mod": (2, 1, 0.5)})
        by_reason = {r.key: (r.reviews, r.agreed) for r in report["reason"]}
        self.assertEqual(
            by_reason,
            {
                "Visible blending, warping or texture artefacts": (1, 1),
                "Model misled (lighting, compression, pose, make-up)": (1, 0),
            },
        )
        with self.assertRaises(services.ReviewConflict):  # made once
            services.second_review_decide(
                review_id=first_a.pk, moderator=self.root, decision="real", reason="no_artefacts"
            )

    def test_the_second_moderator_does_not_see_the_first_decision(self):
        with self.settings(MODERATION_DOUBLE_REVIEW_RATE=1.0):
            item = decided(
                routed(uploader=self.alice, probability=0.9), self.mod, "fake", "known_manipulation"
            )
        review = SecondReview.objects.get(item=item)
        self.client.login(username="mod2", password=PASSWORD)
        self.assertContains(self.client.get(reverse("moderation:queue")), "Second reviews (1)")
        page = self.client.get(reverse("moderation:second_review", args=[review.pk]))
        self.assertContains(page, "Blind second review")
        for hidden in (
            "Confirmed fake",
            'known manipulated source" selected',
            'id="history"',
            ">mod<",
        ):
            self.assertNotContains(page, hidden)
        response = self.client.post(
            reverse("moderation:second_review", args=[review.pk]),
            {"decision": "fake", "reason": "artefacts"},
            follow=True,
        )
        self.assertContains(response, "Second review recorded")
        self.client.login(username="root", password=PASSWORD)
        dashboard = self.client.get(reverse("moderation:dashboard"))
        self.assertContains(dashboard, 'id="agreement-by-moderator"')
        self.assertContains(
            dashboard,
            '<td>mod</td><td class="num">1</td><td class="num">1</td><td class="num">1.00</td>',
            html=False,
        )
