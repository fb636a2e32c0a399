"""Decisions on the part that is fake: a person and/or a time range, in the service, the form,
the API, the uploader's statement of reasons and the evidence page's flagged segments."""

from django.core.exceptions import ValidationError
from django.urls import reverse

from detection.models import FrameResult, PersonResult
from moderation import services
from moderation.forms import parse_clock
from moderation.models import ReviewItem
from tests.api.base import ApiTestCase
from tests.factories import PASSWORD

from .helpers import routed


class RangeDecisionTests(ApiTestCase):
    def setUp(self):
        super().setUp()
        self.item = routed(uploader=self.alice, probability=0.9)
        video = self.item.job.video
        video.duration_s = 30.0
        video.save(update_fields=["duration_s"])
        for index in range(2):
            PersonResult.objects.create(
                job=self.item.job, index=index, fake_probability=0.5, frames_seen=3
            )
        services.review_item_claim(item_id=self.item.pk, moderator=self.mod)

    def decide(self, **part):
        return services.review_item_decide(
            item_id=self.item.pk, moderator=self.mod, decision="fake", reason="artefacts", **part
        )

    def test_a_decision_carries_the_person_and_range(self):
        item = self.decide(person_index=1, start_s=12.0, end_s=19.0)
        event = item.standing_decision
        self.assertEqual((event.person_index, event.start_s, event.end_s), (1, 12.0, 19.0))
        self.assertEqual(event.part, "Person 2, 00:12–00:19")
        self.assertEqual(item.statement_of_reasons["part"]["text"], "Person 2, 00:12–00:19")

    def test_bad_parts_are_refused(self):
        for part, message in (
            ({"start_s": 5.0, "end_s": None}, "both"),
            ({"start_s": 9.0, "end_s": 4.0}, "end after"),
            ({"start_s": 31.0, "end_s": 40.0}, "after the video ends"),
            ({"person_index": 5}, "no person 6"),
        ):
            with self.assertRaisesMessage(ValidationError, message):
                self.decide(**part)
        self.assertEqual(ReviewItem.objects.get(pk=self.item.pk).state, "flagged")

    def test_a_range_past_the_end_is_clipped_to_the_video(self):
        self.assertEqual(self.decide(start_s=25.0, end_s=99.0).standing_decision.end_s, 30.0)

    def test_the_form_reads_clock_times_and_the_uploader_sees_the_part(self):
        self.assertEqual(
            (parse_clock("00:12"), parse_clock("1:02:03"), parse_clock("7.5")), (12.0, 3723.0, 7.5)
        )
        self.client.login(username="mod", password=PASSWORD)
        response = self.client.post(
            reverse("moderation:item_decide", args=[self.item.pk]),
            {
                "decision": "fake",
                "reason": "artefacts",
                "person_index": "1",
                "start_s": "00:12",
                "end_s": "00:19",
                "next_queue": "flagged",
            },
            format="multipart",
        )
        self.assertEqual(response.status_code, 302)
        self.client.login(username="alice", password=PASSWORD)
        page = self.client.get(reverse("detection:job_detail", args=[self.item.job_id]))
        self.assertContains(page, "Person 2, 00:12–00:19")
        self.assertContains(page, "Visible blending, warping or texture artefacts")
        self.assertContains(page, "You can appeal this decision once")
        self.assertNotContains(page, ">mod<")

    def test_the_api_takes_and_returns_the_range(self):
        self.as_user(self.mod)
        url = reverse("api:review-item-decide", args=[self.item.pk])
        body = self.assertError(
            self.client.post(url, {"decision": "fake", "reason": "artefacts", "start_s": 3.0}),
            400,
            "invalid",
        )
        self.assertIn("end_s", body["field_errors"])
        body = self.client.post(
            url,
            {
                "decision": "fake",
                "reason": "artefacts",
                "person_index": 0,
                "start_s": 3.0,
                "end_s": 8.5,
            },
        ).json()
        self.assertEqual(
            (
                body["decision"]["person_index"],
                body["decision"]["start_s"],
                body["decision"]["end_s"],
            ),
            (0, 3.0, 8.5),
        )
        history = self.client.get(reverse("api:review-item-history", args=[self.item.pk])).json()
        self.assertEqual(history[-1]["part"], "Person 1, 00:03–00:08.5")
        self.as_user(self.alice)
        job = self.client.get(reverse("api:job-detail", args=[self.item.job_id])).json()
        self.assertEqual(job["moderation"]["statement"]["part"]["start_s"], 3.0)

    def test_the_evidence_page_jumps_to_flagged_segments(self):
        job = self.item.job
        for n, (t, p) in enumerate([(4.0, 0.2), (6.0, 0.9), (8.0, 0.95), (10.0, 0.1)], start=1):
            FrameResult.objects.create(job=job, frame_index=n, timestamp_s=t, fake_probability=p)
        self.decide(start_s=12.0, end_s=19.0)
        self.client.login(username="mod", password=PASSWORD)
        page = self.client.get(reverse("moderation:item_detail", args=[self.item.pk]))
        self.assertContains(
            page, 'class="segment seg-decision" data-start="12.0" data-end="19.0">00:12–00:19'
        )
        # Frames at 6 and 8 s scored above the threshold (samples 2.5 s apart): one model
        # segment around them, padded by half a gap.
        self.assertContains(page, 'class="segment seg-model" data-start="4.75" data-end="9.25"')
