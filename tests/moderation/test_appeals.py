from django.db import IntegrityError, transaction
from django.urls import reverse

from moderation import services
from moderation.models import ReviewItem, ReviewState
from tests.base import PlatformTestCase
from tests.factories import PASSWORD, UserFactory

from .helpers import decided, routed


class AppealTests(PlatformTestCase):
    def setUp(self):
        super().setUp()
        self.mod2 = UserFactory(username="mod2", role="moderator")
        self.item = decided(routed(uploader=self.alice, probability=0.9), self.mod, "fake")

    def appeal(self, user=None, message="It is me, filmed on my phone."):
        return services.review_item_appeal(
            job_id=self.item.job_id, uploader=user or self.alice, message=message
        )

    def test_the_uploader_appeals_and_the_item_returns_to_the_queue(self):
        item = self.appeal()
        self.assertEqual(item.state, ReviewState.APPEALED)
        self.assertTrue(item.is_appeal)
        self.assertEqual(item.public_status, "Your appeal is waiting for a moderator")
        event = item.events.last()
        self.assertEqual(
            (event.actor, event.reason, event.note),
            (self.alice, "appeal", "It is me, filmed on my phone."),
        )

    def test_an_appeal_needs_a_message(self):
        with self.assertRaises(services.ValidationError):
            self.appeal(message="   ")

    def test_a_decision_can_be_appealed_only_once(self):
        self.appeal()
        decided(ReviewItem.objects.get(pk=self.item.pk), self.mod2, "fake")
        with self.assertRaisesMessage(services.ReviewConflict, "cannot be appealed"):
            self.appeal(message="again")

    def test_only_the_uploader_can_appeal(self):
        with self.assertRaises(ReviewItem.DoesNotExist):
            self.appeal(user=self.bob)

    def test_the_first_moderator_cannot_decide_the_appeal(self):
        self.appeal()
        with self.assertRaisesMessage(services.ReviewConflict, "first decision"):
            services.review_item_claim(item_id=self.item.pk, moderator=self.mod)
        # Even holding a claim (taken before the rule could be checked) does not let them decide.
        ReviewItem.objects.filter(pk=self.item.pk).update(
            claimed_by=self.mod, claim_expires_at=services.timezone.now() + services.claim_ttl()
        )
        with self.assertRaises(services.ReviewConflict):
            services.review_item_decide(
                item_id=self.item.pk, moderator=self.mod, decision="real", reason="authentic_source"
            )

    def test_a_second_moderator_decides_the_appeal_and_it_is_final(self):
        self.appeal()
        item = decided(
            ReviewItem.objects.get(pk=self.item.pk), self.mod2, "real", "authentic_source"
        )
        self.assertEqual(
            (item.state, item.appeal_decided_by, item.first_decided_by),
            (ReviewState.OVERTURNED_REAL, self.mod2, self.mod),
        )
        self.assertEqual(
            item.public_status, "Reviewed by a moderator: authentic (after appeal, final)"
        )
        self.assertFalse(item.can_be_appealed)

    def test_an_escalated_appeal_still_excludes_the_first_moderator(self):
        self.appeal()
        item = decided(ReviewItem.objects.get(pk=self.item.pk), self.mod2, "escalate", "policy")
        with self.assertRaises(services.ReviewConflict):
            services.review_item_claim(item_id=item.pk, moderator=self.mod)
        mod3 = UserFactory(username="mod3", role="moderator")
        item = decided(item, mod3, "fake")
        self.assertEqual(item.appeal_decided_by, mod3)

    def test_the_database_refuses_an_appeal_decided_by_the_first_moderator(self):
        with self.assertRaises(IntegrityError), transaction.atomic():
            ReviewItem.objects.filter(pk=self.item.pk).update(appeal_decided_by=self.mod)

    def test_the_uploader_appeals_from_the_video_page(self):
        self.client.login(username="alice", password=PASSWORD)
        page = self.client.get(reverse("detection:job_detail", args=[self.item.job_id]))
        self.assertContains(page, "Reviewed by a moderator: manipulated")
        self.assertContains(page, 'id="appeal-form"')
        url = reverse("moderation:job_appeal", args=[self.item.job_id])
        response = self.client.post(url, {"message": "That is really me."}, follow=True)
        self.assertContains(response, "a different moderator will review it")
        self.assertContains(response, "Your appeal is waiting for a moderator")
        self.assertNotContains(response, 'id="appeal-form"')
        response = self.client.post(url, {"message": "Again."}, follow=True)
        self.assertContains(response, "cannot be appealed")
        self.assertEqual(
            ReviewItem.objects.get(pk=self.item.pk).appeal_message, "That is really me."
        )

    def test_an_empty_appeal_from_the_page_gets_a_clear_error(self):
        self.client.login(username="alice", password=PASSWORD)
        response = self.client.post(
            reverse("moderation:job_appeal", args=[self.item.job_id]), {"message": ""}, follow=True
        )
        self.assertContains(response, "Your appeal needs a message")
        self.assertEqual(ReviewItem.objects.get(pk=self.item.pk).state, ReviewState.CONFIRMED_FAKE)


class AppealPageTests(PlatformTestCase):
    def test_the_first_moderator_is_told_the_appeal_is_for_someone_else(self):
        item = decided(routed(uploader=self.alice, probability=0.9), self.mod, "fake")
        services.review_item_appeal(job_id=item.job_id, uploader=self.alice, message="Mine.")
        UserFactory(username="mod2", role="moderator")
        url = reverse("moderation:item_detail", args=[item.pk])
        self.client.login(username="mod", password=PASSWORD)
        page = self.client.get(url)
        self.assertContains(page, "its appeal goes to another moderator")
        self.assertNotContains(page, 'id="claim-button"')
        self.client.login(username="mod2", password=PASSWORD)
        self.assertContains(self.client.get(url), 'id="claim-button"')
