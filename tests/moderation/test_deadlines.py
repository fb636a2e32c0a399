"""Deadlines per queue and reason; a missed one escalates to the senior moderators."""

import datetime as dt
from io import StringIO

from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from moderation import services
from moderation.models import ReviewItem, ReviewState
from tests.base import PlatformTestCase
from tests.factories import UserFactory

from .helpers import decided, later, routed


class DeadlineTests(PlatformTestCase):
    def setUp(self):
        super().setUp()
        self.senior = UserFactory(username="sam", role="senior_moderator")

    def test_each_queue_and_reason_has_its_deadline(self):
        with self.settings(
            MODERATION_DEADLINES={
                "routed_flagged": 60,
                "needs_review": 600,
                "appeal": 2880,
                "escalated": 240,
            }
        ):
            flagged = routed(uploader=self.alice, probability=0.95)
            uncertain = routed(uploader=self.alice, verdict="uncertain", probability=0.5)
            cleared = routed(uploader=self.alice, verdict="real", probability=0.01)
            for item, minutes in ((flagged, 60), (uncertain, 600)):
                self.assertAlmostEqual(
                    (item.due_at - item.created_at).total_seconds(), minutes * 60, delta=2
                )
            self.assertIsNone(cleared.due_at)
            item = decided(flagged, self.mod, "fake")
            self.assertIsNone(item.due_at)
            item = services.review_item_appeal(
                job_id=item.job_id, uploader=self.alice, message="It is me."
            )
            self.assertAlmostEqual(
                (item.due_at - item.appealed_at).total_seconds(), 2880 * 60, delta=2
            )

    def test_a_missed_deadline_escalates_to_a_senior_moderator(self):
        item = routed(uploader=self.alice, probability=0.95)
        self.assertEqual(services.review_items_escalate_overdue(now=later(30)), [])
        with self.captureOnCommitCallbacks(execute=True):
            self.assertEqual(services.review_items_escalate_overdue(now=later(61)), [item.pk])
        item.refresh_from_db()
        self.assertEqual((item.state, item.escalated_by), (ReviewState.ESCALATED, None))
        event = item.events.last()
        self.assertEqual((event.actor, event.reason), (None, "deadline_missed"))
        self.assertGreater(item.due_at, later(61))  # the escalation has its own deadline
        # Seniors (and admins) are told; plain moderators are not.
        self.assertEqual(
            sorted(m.to[0] for m in mail.outbox), ["root@example.com", "sam@example.com"]
        )
        self.assertIn("Missed review deadline", mail.outbox[0].subject)
        # Only a senior moderator can take it now that the site has one.
        with self.assertRaisesMessage(services.ReviewConflict, "senior moderator"):
            services.review_item_claim(item_id=item.pk, moderator=self.mod)
        self.assertEqual(services.review_item_claim_next(moderator=self.mod), None)
        claimed = services.review_item_claim_next(moderator=self.senior, queue="escalated")
        self.assertEqual(claimed.pk, item.pk)

    def test_an_item_someone_is_reviewing_waits_for_their_claim(self):
        item = routed(uploader=self.alice, probability=0.95)
        services.review_item_claim(item_id=item.pk, moderator=self.mod, now=later(50))
        self.assertEqual(services.review_items_escalate_overdue(now=later(61)), [])
        self.assertEqual(services.review_items_escalate_overdue(now=later(75)), [item.pk])

    def test_a_missed_escalation_is_reported_once(self):
        item = routed(uploader=self.alice, probability=0.95)
        services.review_items_escalate_overdue(now=later(61))
        due = ReviewItem.objects.get(pk=item.pk).due_at
        after = due + dt.timedelta(minutes=1)
        self.assertEqual(services.review_items_escalate_overdue(now=after), [item.pk])
        self.assertEqual(services.review_items_escalate_overdue(now=after), [])
        self.assertEqual(item.events.filter(reason="deadline_missed").count(), 1)

    def test_the_command_and_its_schedule(self):
        item = routed(uploader=self.alice, probability=0.95)
        ReviewItem.objects.filter(pk=item.pk).update(
            due_at=timezone.now() - dt.timedelta(minutes=1)
        )
        out = StringIO()
        call_command("moderation_deadlines", stdout=out)
        self.assertIn(
            f"1 item(s) past their deadline escalated or reported: {item.pk}", out.getvalue()
        )
        call_command("moderation_deadlines", "--install-schedule", stdout=out)
        call_command("moderation_deadlines", "--install-schedule", stdout=out)
        from django_q.models import Schedule

        schedule = Schedule.objects.get(name=services.DEADLINES_SCHEDULE)
        self.assertEqual(
            (schedule.func, schedule.schedule_type, schedule.minutes),
            ("moderation.tasks.deadlines_enforce", Schedule.MINUTES, 1),
        )

    def test_the_queue_shows_a_countdown(self):
        from django.urls import reverse

        from tests.factories import PASSWORD

        routed(uploader=self.alice, probability=0.95)
        self.client.login(username="mod", password=PASSWORD)
        page = self.client.get(reverse("moderation:queue"))
        self.assertContains(page, "data-due")
        self.assertRegex(page.content.decode(), r"due in (59|60) min")


class SeniorRoleTests(PlatformTestCase):
    def test_without_senior_moderators_escalations_go_to_any_other_moderator(self):
        mod2 = UserFactory(username="mod2", role="moderator")
        item = decided(routed(uploader=self.alice, probability=0.9), self.mod, "escalate", "policy")
        self.assertEqual(
            services.review_item_claim(item_id=item.pk, moderator=mod2).claimed_by, mod2
        )

    def test_with_a_senior_moderator_escalations_go_to_seniors_only(self):
        UserFactory(username="mod2", role="moderator")
        senior = UserFactory(username="sam", role="senior_moderator")
        item = decided(routed(uploader=self.alice, probability=0.9), self.mod, "escalate", "policy")
        mod2 = UserFactory(username="mod2")
        with self.assertRaisesMessage(services.ReviewConflict, "senior moderator"):
            services.review_item_claim(item_id=item.pk, moderator=mod2)
        item = decided(item, senior, "fake")
        self.assertEqual(item.state, ReviewState.CONFIRMED_FAKE)
        self.assertTrue(senior.is_moderator and senior.is_senior_moderator)
        self.assertFalse(self.mod.is_senior_moderator)
