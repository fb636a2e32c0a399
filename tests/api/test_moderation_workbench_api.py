"""The workbench through the API: claim next per queue, decisions on a part of the video, the
item's deadline, short id, assignment and standing decision."""

from django.urls import reverse

from moderation import services
from tests.factories import UserFactory
from tests.moderation.helpers import routed

from .base import ApiTestCase


class WorkbenchApiTests(ApiTestCase):
    def test_claim_next_then_decide_a_range(self):
        top = routed(uploader=self.alice, probability=0.99)
        routed(uploader=self.alice, verdict="uncertain", probability=0.5)
        self.as_user(self.mod)
        url = reverse("api:review-queue-claim-next", args=["flagged"])
        body = self.client.post(url).json()
        self.assertEqual(
            (body["id"], body["claimed_by"], body["short_id"]), (top.pk, "mod", top.short_id)
        )
        self.assertIsNotNone(body["due_at"])
        self.assertIsNone(body["decision"])
        body = self.client.post(
            reverse("api:review-item-decide", args=[top.pk]),
            {"decision": "fake", "reason": "av_mismatch", "start_s": 1.0, "end_s": 2.5},
        ).json()
        self.assertEqual(
            (
                body["decision"]["reason"],
                body["decision"]["start_s"],
                body["decision"]["end_s"],
                body["decision"]["part"],
            ),
            ("av_mismatch", 1.0, 2.5, "00:01–00:02.5"),
        )
        self.assertEqual(self.client.post(url).status_code, 204)  # nothing left there
        self.assertEqual(
            self.client.post(
                reverse("api:review-queue-claim-next", args=["needs_review"])
            ).status_code,
            200,
        )
        self.assertError(
            self.client.post(reverse("api:review-queue-claim-next", args=["bogus"])),
            404,
            "not_found",
        )

    def test_the_item_says_who_it_is_assigned_to(self):
        item = routed(uploader=self.alice, probability=0.99)
        mod2 = UserFactory(username="mod2", role="moderator")
        services.review_item_assign(item_id=item.pk, by=self.root, to_user=mod2)
        self.as_user(self.mod)
        body = self.client.get(reverse("api:review-item-detail", args=[item.pk])).json()
        self.assertEqual((body["assigned_to"], body["assigned_team"]), ("mod2", None))
        self.assertError(
            self.client.post(reverse("api:review-item-claim", args=[item.pk])), 409, "conflict"
        )

    def test_a_bulk_decision_is_recorded_per_item(self):
        items = [routed(uploader=self.alice, probability=p) for p in (0.91, 0.92)]
        self.as_user(self.mod)
        url = reverse("api:review-items-bulk-decide")
        body = self.assertError(
            self.client.post(
                url, {"items": [i.pk for i in items], "decision": "real", "reason": "artefacts"}
            ),
            400,
            "invalid",
        )
        self.assertIn("reason", body["field_errors"])
        body = self.client.post(
            url,
            {
                "items": [i.pk for i in items] + [999999],
                "decision": "real",
                "reason": "model_error",
            },
        ).json()
        self.assertEqual(
            body, {"decided": [items[0].pk, items[1].pk], "skipped": {"999999": "No such item."}}
        )
        for item in items:
            self.assertEqual(item.events.filter(actor=self.mod, reason="model_error").count(), 1)

    def test_seniors_assign_through_the_api(self):
        from accounts.models import Team

        item = routed(uploader=self.alice, probability=0.99)
        Team.objects.create(name="Elections")
        url = reverse("api:review-item-assign", args=[item.pk])
        self.as_user(self.mod)
        self.assertError(
            self.client.post(url, {"assigned_team": "Elections"}), 403, "permission_denied"
        )
        self.as_user(self.root)
        body = self.client.post(url, {"assigned_team": "Elections"}).json()
        self.assertEqual((body["assigned_to"], body["assigned_team"]), (None, "Elections"))
        body = self.assertError(self.client.post(url, {"assigned_to": "nobody"}), 400, "invalid")
        self.assertIn("assigned_to", body["field_errors"])

    def test_uploaders_cannot_claim_next(self):
        self.as_user(self.alice)
        self.assertError(
            self.client.post(reverse("api:review-queue-claim-next", args=["waiting"])),
            403,
            "permission_denied",
        )
