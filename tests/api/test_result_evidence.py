"""The API carries each branch's score, the fake segments and the uncertain reasons."""

from unittest import mock

from django.test import override_settings
from django.urls import reverse
from rest_framework.test import APIClient

from detection.pipeline.types import REASON_CODES
from orchestration.jobs import job_run
from tests.factories import JobFactory, VideoFactory
from tests.pipeline.fused_results import fused_result

from .base import ApiTestCase


def schema():
    return (
        APIClient()
        .get(reverse("api:schema"), HTTP_ACCEPT="application/vnd.oai.openapi+json")
        .json()
    )


class ResultEvidenceTests(ApiTestCase):
    def test_the_schema_lists_every_uncertain_reason_code(self):
        components = schema()["components"]["schemas"]
        reason = components["Reason"]["properties"]["code"]
        enum = (
            components[reason["$ref"].rsplit("/", 1)[1]]["enum"]
            if "$ref" in reason
            else reason["enum"]
        )
        self.assertEqual(set(enum), set(REASON_CODES))
        detail = components["JobDetail"]["properties"]
        self.assertIn("reasons", detail)
        self.assertIn("profile", detail)
        person = components["Person"]["properties"]
        self.assertIn("branches", person)
        self.assertIn("segments", person)

    def analysed_partial_fake(self):
        job = JobFactory(video=VideoFactory(uploaded_by=self.alice))
        analyser = mock.Mock()
        analyser.analyse.return_value = fused_result(
            [{"frames": list(range(20)), "logits": -4.0}, {"frames": [17, 18, 19], "logits": 6.0}]
        )
        with mock.patch("detection.services.analyser_for_spec", return_value=analyser):
            job_run(job_id=job.id)
        return job

    @override_settings(MODERATION_HIDE_SCORES_FROM_UPLOADERS=True)
    def test_an_uploader_who_may_not_see_scores_gets_the_reasons_in_general_words(self):
        job = self.analysed_partial_fake()
        self.as_user(self.alice)
        body = self.client.get(reverse("api:job-detail", args=[job.id])).json()
        self.assertEqual(body["verdict"], "uncertain")
        self.assertEqual(
            body["reasons"],
            [{"code": "brief_fake_person", "message": REASON_CODES["brief_fake_person"]}],
        )
        self.assertEqual(body["persons"], [])

    def test_a_job_answers_its_reasons_branches_and_segments(self):
        job = self.analysed_partial_fake()
        self.as_user(self.mod)
        body = self.client.get(reverse("api:job-detail", args=[job.id])).json()
        self.assertEqual(body["verdict"], "uncertain")
        self.assertEqual(body["profile"], "default")
        self.assertEqual([r["code"] for r in body["reasons"]], ["brief_fake_person"])
        self.assertIn("Person 2", body["reasons"][0]["message"])
        brief = body["persons"][1]
        self.assertEqual(brief["segments"][0]["start_s"], 8.5)
        self.assertGreater(brief["branches"]["fused"]["probability"], 0.95)
        self.assertGreater(brief["branches"]["blend"]["probability"], 0.95)
