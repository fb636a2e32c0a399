"""Moderators hear of new flags, appeals and missed deadlines by e-mail and webhook."""

from unittest import mock

from django.core import mail
from django.urls import reverse

from moderation import services
from tests.api.base import ApiTestCase
from tests.factories import UserFactory
from webhooks.models import WebhookEvent

from .helpers import decided, routed


class NotificationTests(ApiTestCase):
    def setUp(self):
        super().setUp()
        self.mod2 = UserFactory(username="mod2", role="moderator")
        self.quiet = UserFactory(username="quiet", role="moderator", notify_by_email=False)

    def test_a_new_flag_is_e_mailed_to_moderators_who_want_it(self):
        with self.captureOnCommitCallbacks(execute=True):
            item = routed(uploader=self.alice, probability=0.95)
            routed(uploader=self.alice, verdict="uncertain", probability=0.5)  # not a flag
        self.assertEqual(
            sorted(m.to[0] for m in mail.outbox),
            ["mod2@example.com", "mod@example.com", "root@example.com"],
        )
        message = mail.outbox[0]
        self.assertIn("New flagged video", message.subject)
        self.assertIn(item.short_id, message.subject)
        self.assertIn(reverse("moderation:item_detail", args=[item.pk]), message.body)

    def test_an_appeal_is_not_sent_to_the_first_moderator(self):
        item = decided(routed(uploader=self.alice, probability=0.95), self.mod, "fake")
        mail.outbox.clear()
        with self.captureOnCommitCallbacks(execute=True):
            services.review_item_appeal(
                job_id=item.job_id, uploader=self.alice, message="It is me."
            )
        self.assertEqual(
            sorted(m.to[0] for m in mail.outbox), ["mod2@example.com", "root@example.com"]
        )
        self.assertIn("It is me.", mail.outbox[0].body)

    def test_the_moderation_webhook_gets_the_events_and_the_client_never_sees_them(self):
        with (
            self.settings(MODERATION_WEBHOOK_URL="https://93.184.215.14/moderation"),
            mock.patch("webhooks.services.webhook_enqueue") as enqueue,
            self.captureOnCommitCallbacks(execute=True),
        ):
            item = routed(uploader=self.alice, probability=0.95)
            services.review_items_escalate_overdue(now=item.due_at)
        events = list(WebhookEvent.objects.order_by("created_at"))
        self.assertEqual([e.type for e in events], ["review.flagged", "review.deadline_missed"])
        self.assertEqual(events[0].url, "https://93.184.215.14/moderation")
        self.assertEqual(events[1].payload["data"]["review"]["state"], "escalated")
        self.assertEqual(enqueue.call_count, 2)
        self.as_user(self.alice)
        log = self.client.get(reverse("api:job-webhooks", args=[item.job_id])).json()
        self.assertEqual(log, [])

    def test_assigned_items_are_told_to_the_assignee_only(self):
        item = routed(uploader=self.alice, probability=0.95)
        mail.outbox.clear()
        with self.captureOnCommitCallbacks(execute=True):
            services.review_item_assign(item_id=item.pk, by=self.root, to_user=self.mod2)
        self.assertEqual([m.to[0] for m in mail.outbox], ["mod2@example.com"])

    def test_an_escalation_is_e_mailed_to_the_senior_moderators(self):
        senior = UserFactory(username="sam", role="senior_moderator")
        item = routed(uploader=self.alice, probability=0.95)
        mail.outbox.clear()
        with self.captureOnCommitCallbacks(execute=True):
            decided(item, senior, "escalate", "policy")  # a senior may escalate too
            decided(
                routed(uploader=self.alice, probability=0.9), self.mod, "escalate", "second_opinion"
            )
        escalations = [m for m in mail.outbox if "escalated" in m.subject]
        # The escalator is not told of their own escalation; plain moderators are not told.
        self.assertEqual(
            sorted(m.to[0] for m in escalations),
            ["root@example.com", "root@example.com", "sam@example.com"],
        )
