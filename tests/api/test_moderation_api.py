from unittest import mock

from django.urls import reverse

from moderation.models import ReviewState
from tests.factories import UserFactory
from tests.moderation.helpers import decided, routed
from webhooks.models import WebhookEvent

from .base import ApiTestCase


class ModerationApiTests(ApiTestCase):
    def setUp(self):
        super().setUp()
        self.item = routed(uploader=self.alice, verdict="fake", probability=0.95)
        self.cleared = routed(uploader=self.bob, verdict="real", probability=0.05)
        self.mod2 = UserFactory(username="mod2", role="moderator")

    def _claim(self, user, item=None):
        self.as_user(user)
        return self.client.post(reverse("api:review-item-claim", args=[(item or self.item).pk]))

    def _decide(self, user, decision="fake", reason="artefacts", **extra):
        self.as_user(user)
        return self.client.post(
            reverse("api:review-item-decide", args=[self.item.pk]),
            {"decision": decision, "reason": reason, **extra},
        )

    def test_uploaders_are_refused_every_moderator_endpoint(self):
        self.as_user(self.alice)
        pk = self.item.pk
        for name in ("review-item-detail", "review-item-history"):
            self.assertError(
                self.client.get(reverse(f"api:{name}", args=[pk])), 403, "permission_denied"
            )
        self.assertError(self.client.get(reverse("api:review-item-list")), 403, "permission_denied")
        for name in ("review-item-claim", "review-item-release", "review-item-decide"):
            self.assertError(
                self.client.post(reverse(f"api:{name}", args=[pk])), 403, "permission_denied"
            )

    def test_anonymous_is_401(self):
        self.assertError(self.client.get(reverse("api:review-item-list")), 401, "not_authenticated")

    def test_moderators_and_admins_list_the_waiting_queue_and_can_filter(self):
        for user in (self.mod, self.root):
            self.as_user(user)
            body = self.client.get(reverse("api:review-item-list")).json()
            self.assertEqual([r["id"] for r in body["results"]], [self.item.pk])
            self.assertEqual(body["results"][0]["uploaded_by"], "alice")
        body = self.client.get(reverse("api:review-item-list"), {"state": "all"}).json()
        self.assertEqual({r["id"] for r in body["results"]}, {self.item.pk, self.cleared.pk})
        self.assertError(
            self.client.get(reverse("api:review-item-list"), {"state": "bogus"}), 400, "invalid"
        )

    def test_claim_then_decide_records_history(self):
        response = self._claim(self.mod)
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(response.json()["claimed_by"], "mod")
        response = self._decide(self.mod, note="blending at the jaw")
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(response.json()["state"], ReviewState.CONFIRMED_FAKE)
        history = self.client.get(reverse("api:review-item-history", args=[self.item.pk])).json()
        self.assertEqual([e["to_state"] for e in history], ["flagged", "confirmed_fake"])
        self.assertEqual(
            (history[-1]["actor"], history[-1]["note"]), ("mod", "blending at the jaw")
        )
        self.assertIsNone(history[0]["actor"])  # routing is the system

    def test_a_second_moderator_cannot_claim_or_decide_a_held_item(self):
        self._claim(self.mod)
        self.assertError(self._claim(self.mod2), 409, "conflict")
        body = self.assertError(self._decide(self.mod2), 409, "conflict")
        self.assertIn("Another moderator", body["message"])

    def test_deciding_without_a_claim_is_a_conflict(self):
        self.assertError(self._decide(self.mod), 409, "conflict")

    def test_bad_decisions_get_field_errors(self):
        self._claim(self.mod)
        body = self.assertError(self._decide(self.mod, decision="maybe"), 400, "invalid")
        self.assertIn("decision", body["field_errors"])
        body = self.assertError(self._decide(self.mod, reason="other"), 400, "invalid")
        self.assertIn("note", body["message"])

    def test_release(self):
        self._claim(self.mod)
        url = reverse("api:review-item-release", args=[self.item.pk])
        self.assertEqual(self.client.post(url).status_code, 204)
        self.assertError(self.client.post(url), 409, "conflict")

    def test_an_unknown_item_is_404(self):
        self.as_user(self.mod)
        self.assertError(
            self.client.get(reverse("api:review-item-detail", args=[999999])), 404, "not_found"
        )

    def test_the_job_shows_its_moderation_state(self):
        decided(self.item, self.mod)
        self.as_user(self.alice)
        body = self.client.get(reverse("api:job-detail", args=[self.item.job_id])).json()
        self.assertEqual(body["moderation"]["state"], "confirmed_fake")
        self.assertIn("manipulated", body["moderation"]["status"])
        listed = self.client.get(reverse("api:job-list")).json()["results"][0]
        self.assertEqual(listed["moderation"]["state"], "confirmed_fake")


class AppealApiTests(ApiTestCase):
    def setUp(self):
        super().setUp()
        self.item = routed(uploader=self.alice, verdict="fake", probability=0.95)
        self.url = reverse("api:job-appeal", args=[self.item.job_id])

    def test_the_uploader_appeals_a_decision_once(self):
        decided(self.item, self.mod)
        self.as_user(self.alice)
        response = self.client.post(self.url, {"message": "It is my own unedited footage."})
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(response.json()["state"], "appealed")
        self.assertError(self.client.post(self.url, {"message": "again"}), 409, "conflict")

    def test_an_appeal_before_any_decision_is_a_conflict(self):
        self.as_user(self.alice)
        self.assertError(self.client.post(self.url, {"message": "why"}), 409, "conflict")

    def test_someone_elses_job_is_404_even_for_a_moderator(self):
        decided(self.item, self.mod)
        for user in (self.bob, self.mod):
            self.as_user(user)
            self.assertError(self.client.post(self.url, {"message": "not mine"}), 404, "not_found")

    def test_an_empty_message_is_refused(self):
        decided(self.item, self.mod)
        self.as_user(self.alice)
        body = self.assertError(self.client.post(self.url, {"message": ""}), 400, "invalid")
        self.assertIn("message", body["field_errors"])


class ModerationWebhookTests(ApiTestCase):
    def test_a_final_decision_sends_a_moderated_event_and_an_escalation_does_not(self):
        item = routed(
            uploader=self.alice,
            verdict="fake",
            probability=0.9,
            callback_url="https://93.184.215.14/hook",
        )
        with (
            mock.patch("webhooks.services.webhook_enqueue") as enqueue,
            self.captureOnCommitCallbacks(execute=True),
        ):
            decided(item, self.mod, decision="escalate", reason="second_opinion")
            self.assertFalse(WebhookEvent.objects.exists())
            decided(item, self.root, decision="real", reason="authentic_source")
        event = WebhookEvent.objects.get()
        self.assertEqual(event.type, "job.moderated")
        self.assertEqual(
            event.payload["data"]["moderation"],
            {
                "state": "overturned_real",
                "outcome": "real",
                "decision": "real",
                "changes_model_verdict": True,
            },
        )
        enqueue.assert_called_once_with(event_id=event.id)
