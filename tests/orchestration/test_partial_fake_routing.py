"""A partial fake (a brief fake person, a short fake stretch) reaches a moderator."""

from unittest import mock

from detection.models import JobStatus
from moderation.models import ReviewState
from orchestration.jobs import job_run
from tests.base import PlatformTestCase
from tests.factories import JobFactory, VideoFactory
from tests.pipeline.fused_results import fused_result

EVERY_FRAME = list(range(20))


class PartialFakeRoutingTests(PlatformTestCase):
    def run_with(self, result):
        job = JobFactory(video=VideoFactory(uploaded_by=self.alice))
        analyser = mock.Mock()
        analyser.analyse.return_value = result
        with mock.patch("detection.services.analyser_for_spec", return_value=analyser):
            job_run(job_id=job.id)
        job.refresh_from_db()
        self.assertEqual(job.status, JobStatus.DONE, job.error)
        return job

    def test_a_brief_second_fake_person_goes_to_review_not_cleared(self):
        job = self.run_with(
            fused_result(
                [{"frames": EVERY_FRAME, "logits": -4.0}, {"frames": [17, 18, 19], "logits": 6.0}]
            )
        )
        self.assertLess(job.fake_probability, job.model_version.video_band[0])
        self.assertEqual(job.verdict, "uncertain")
        self.assertEqual(job.review.state, ReviewState.NEEDS_REVIEW)
        self.assertEqual([r["code"] for r in job.reasons], ["brief_fake_person"])
        self.assertIn("brief_fake_person", job.review.events.get().note)
        brief = job.persons.get(index=1)
        self.assertFalse(brief.counts_for_video)
        self.assertEqual([(s["start_s"], s["end_s"]) for s in brief.segments], [(8.5, 9.5)])

    def test_a_short_fake_stretch_goes_to_review_with_its_time_range(self):
        logits = [-4.0] * 10 + [8.0] * 3 + [-4.0] * 7
        job = self.run_with(fused_result([{"frames": EVERY_FRAME, "logits": logits}]))
        self.assertEqual(job.review.state, ReviewState.NEEDS_REVIEW)
        person = job.persons.get()
        self.assertEqual([(s["start_s"], s["end_s"]) for s in person.segments], [(5.0, 6.0)])
        self.assertEqual(
            set(person.branches),
            {"blend", "synthesis", "fused", "contributions", "outlier_distance"},
        )

    def test_a_real_video_without_a_fake_stretch_is_still_cleared(self):
        job = self.run_with(fused_result([{"frames": EVERY_FRAME, "logits": -4.0}]))
        self.assertEqual(job.verdict, "real")
        self.assertEqual(job.review.state, ReviewState.AUTO_CLEARED)
        self.assertEqual(job.reasons, [])
