from unittest import mock

import pytest
from django.core.management import call_command
from django.test import override_settings

from detection.models import AnalysisJob, JobStatus
from detection.pipeline.types import FrameOutcome, VideoInfo, VideoResult
from detection.selectors import model_version_active
from detection.services import model_version_activate
from moderation import services
from moderation.models import ReviewEvent, ReviewItem, ReviewState
from orchestration.jobs import job_run
from tests.base import PlatformTestCase
from tests.factories import JobFactory, VideoFactory, done_job, model_version_like_active

from .helpers import routed


class RoutingTests(PlatformTestCase):
    def setUp(self):
        super().setUp()
        self.version = model_version_active()
        # Videos are routed by the version's video band (the shipped version has its own).
        self.low, self.high = self.version.video_band

    def test_it_flags_scores_at_or_above_the_upper_end_of_the_band(self):
        item = routed(uploader=self.alice, probability=self.high)
        self.assertEqual(item.state, ReviewState.FLAGGED)
        self.assertEqual(item.model_score, self.high)
        self.assertEqual(item.model_version, self.version)

    def test_it_sends_the_uncertain_band_to_review(self):
        for p in (self.low, self.high - 0.001):
            item = routed(uploader=self.alice, verdict="uncertain", probability=p)
            self.assertEqual(item.state, ReviewState.NEEDS_REVIEW, p)

    def test_it_auto_clears_scores_below_the_band_but_keeps_them_reviewable(self):
        item = routed(uploader=self.alice, verdict="real", probability=self.low - 0.001)
        self.assertEqual(item.state, ReviewState.AUTO_CLEARED)
        self.assertTrue(item.is_open)

    def test_it_sends_videos_without_a_face_to_review_by_default(self):
        item = routed(uploader=self.alice, verdict="no_face", probability=None, faces=False)
        self.assertEqual(item.state, ReviewState.NEEDS_REVIEW)
        self.assertEqual(item.events.get().reason, "routed_no_face")

    @override_settings(MODERATION_NO_FACE_TO_REVIEW=False)
    def test_a_deployment_can_auto_clear_videos_without_a_face(self):
        item = routed(uploader=self.alice, verdict="no_face", probability=None, faces=False)
        self.assertEqual(item.state, ReviewState.AUTO_CLEARED)

    def test_it_uses_the_thresholds_stored_with_the_jobs_model_version(self):
        # A new version with these numbers (a used version cannot change them).
        model_version_activate(
            model_version=model_version_like_active(
                version="t1", video_uncertain_low=0.1, video_uncertain_high=0.2
            )
        )
        self.assertEqual(routed(uploader=self.alice, probability=0.25).state, ReviewState.FLAGGED)
        self.assertEqual(
            routed(uploader=self.alice, probability=0.15).state, ReviewState.NEEDS_REVIEW
        )

    def test_a_version_without_a_video_band_routes_by_its_face_band(self):
        model_version_activate(
            model_version=model_version_like_active(
                version="t2",
                video_uncertain_low=None,
                video_uncertain_high=None,
                video_calibration_a=None,
                video_calibration_b=None,
                uncertain_low=0.1,
                fake_threshold=0.15,
                uncertain_high=0.2,
            )
        )
        self.assertEqual(routed(uploader=self.alice, probability=0.2).state, ReviewState.FLAGGED)
        self.assertEqual(
            routed(uploader=self.alice, probability=0.05).state, ReviewState.AUTO_CLEARED
        )

    def test_a_video_between_the_face_band_and_the_video_band_goes_to_review(self):
        # The face band would flag it; the video band, fitted on videos, is not sure.
        self.assertLess(self.version.uncertain_high, self.high)
        p = (self.version.uncertain_high + self.high) / 2
        self.assertEqual(
            routed(uploader=self.alice, verdict="uncertain", probability=p).state,
            ReviewState.NEEDS_REVIEW,
        )

    def test_routing_twice_keeps_one_item_and_one_routing_event(self):
        item = routed(uploader=self.alice)
        again = services.review_item_route(job=item.job)
        self.assertEqual(again.pk, item.pk)
        self.assertEqual(ReviewEvent.objects.filter(item=item).count(), 1)

    def test_unfinished_jobs_are_not_routed(self):
        job = JobFactory(video=VideoFactory(uploaded_by=self.alice), status=JobStatus.RUNNING)
        self.assertIsNone(services.review_item_route(job=job))
        self.assertFalse(ReviewItem.objects.exists())

    def test_the_routing_event_records_the_model_score_and_the_band(self):
        event = routed(uploader=self.alice, probability=0.9).events.get()
        self.assertEqual((event.from_state, event.to_state, event.actor), ("", "flagged", None))
        self.assertEqual(event.model_score, 0.9)
        self.assertIn("p=0.900", event.note)
        self.assertIn(f"band {self.low}–{self.high}", event.note)

    def test_items_routed_to_review_queue_their_heatmaps_after_commit(self):
        with mock.patch.object(services, "heatmaps_enqueue") as enqueue:
            with self.captureOnCommitCallbacks(execute=True):
                flagged = routed(uploader=self.alice, probability=0.9)
            with self.captureOnCommitCallbacks(execute=True):
                routed(uploader=self.alice, verdict="real", probability=0.01)
        enqueue.assert_called_once_with(job_id=flagged.job.id)


class WorkerRoutingTests(PlatformTestCase):
    """The worker stores a result and routes it to review in one transaction."""

    def _result(self, p):
        return VideoResult(
            verdict="fake",
            fake_probability=p,
            frames_sampled=1,
            frames_with_face=0,
            faces_scored=0,
            frames=(FrameOutcome(index=0, timestamp_s=0.0),),
            info=VideoInfo(
                width=64, height=64, fps=10.0, frame_count=10, duration_s=1.0, codec="mp4v"
            ),
        )

    def _run(self, p):
        """job_run on a queued job, its analyser answering a fixed result."""
        job = JobFactory(video=VideoFactory(uploaded_by=self.alice))
        analyser = mock.Mock(**{"analyse.return_value": self._result(p)})
        with mock.patch("detection.services.analyser_for_spec", return_value=analyser):
            job_run(job_id=job.id)
        return job

    def test_storing_a_result_routes_the_job_into_the_queue(self):
        job = self._run(0.95)
        self.assertEqual(AnalysisJob.objects.get(pk=job.pk).status, JobStatus.DONE)
        self.assertEqual(ReviewItem.objects.get(job=job).state, ReviewState.FLAGGED)

    def test_routing_happens_in_the_same_transaction_as_the_result(self):
        with mock.patch("orchestration.jobs.review_item_route", side_effect=RuntimeError("boom")):
            job = self._run(0.95)
        job = AnalysisJob.objects.get(pk=job.pk)
        # Nothing of the result was kept: the job failed while storing, with no rows.
        self.assertEqual((job.status, job.error_code), (JobStatus.FAILED, "internal_error"))
        self.assertIn("storing results", job.error)
        self.assertFalse(job.frames.exists())
        self.assertFalse(ReviewItem.objects.filter(job=job).exists())


class BackfillTests(PlatformTestCase):
    def test_the_command_routes_finished_jobs_without_an_item_once(self):
        old = done_job(uploader=self.alice, probability=0.9)
        JobFactory(video=VideoFactory(uploaded_by=self.alice), status=JobStatus.QUEUED)
        already = routed(uploader=self.bob, probability=0.1)
        call_command("moderation_backfill", stdout=mock.MagicMock())
        self.assertEqual(ReviewItem.objects.get(job=old).state, ReviewState.FLAGGED)
        self.assertEqual(ReviewItem.objects.count(), 2)
        self.assertEqual(already.events.count(), 1)
        self.assertEqual(services.review_items_backfill(), 0)


pytestmark = pytest.mark.django_db
