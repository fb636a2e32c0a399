import datetime as dt
import uuid

from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from detection.models import JobStatus, PersonResult
from tests.factories import JobFactory, VideoFactory, done_job

from .base import ApiTestCase


class JobListTests(ApiTestCase):
    url = reverse("api:job-list")

    def setUp(self):
        super().setUp()
        self.alice_fake = done_job(uploader=self.alice, verdict="fake", probability=0.91)
        self.alice_real = done_job(uploader=self.alice, verdict="real", probability=0.12)
        self.alice_queued = JobFactory(
            video=VideoFactory(uploaded_by=self.alice), client_reference="ref-1"
        )
        self.bob_job = done_job(uploader=self.bob)

    def _ids(self, response):
        self.assertEqual(response.status_code, 200, response.content)
        return [item["id"] for item in response.json()["results"]]

    def test_an_uploader_lists_only_their_own_jobs(self):
        self.as_user(self.alice)
        ids = self._ids(self.client.get(self.url))
        self.assertCountEqual(
            ids, [str(self.alice_fake.id), str(self.alice_real.id), str(self.alice_queued.id)]
        )

    def test_a_moderator_and_an_admin_list_everyones_jobs(self):
        for user in (self.mod, self.root):
            self.as_user(user)
            self.assertEqual(len(self._ids(self.client.get(self.url))), 4)

    def test_it_filters_by_status_verdict_and_reference(self):
        self.as_user(self.alice)
        self.assertEqual(
            self._ids(self.client.get(self.url, {"status": "queued"})), [str(self.alice_queued.id)]
        )
        self.assertEqual(
            self._ids(self.client.get(self.url, {"verdict": "real"})), [str(self.alice_real.id)]
        )
        self.assertEqual(
            self._ids(self.client.get(self.url, {"client_reference": "ref-1"})),
            [str(self.alice_queued.id)],
        )

    def test_it_filters_by_date_range(self):
        old = timezone.now() - dt.timedelta(days=10)
        type(self.alice_fake).objects.filter(id=self.alice_fake.id).update(created_at=old)
        self.as_user(self.alice)
        cutoff = (timezone.now() - dt.timedelta(days=1)).isoformat()
        self.assertEqual(
            self._ids(self.client.get(self.url, {"created_before": cutoff})),
            [str(self.alice_fake.id)],
        )
        self.assertNotIn(
            str(self.alice_fake.id), self._ids(self.client.get(self.url, {"created_after": cutoff}))
        )

    def test_it_orders_by_probability(self):
        self.as_user(self.alice)
        ids = self._ids(self.client.get(self.url, {"ordering": "-fake_probability", "verdict": ""}))
        self.assertEqual(ids[:2], [str(self.alice_fake.id), str(self.alice_real.id)])
        ids = self._ids(self.client.get(self.url, {"ordering": "fake_probability"}))
        self.assertLess(ids.index(str(self.alice_real.id)), ids.index(str(self.alice_fake.id)))

    def test_jobs_without_a_probability_sort_last_both_ways(self):
        self.as_user(self.alice)
        for ordering in ("fake_probability", "-fake_probability"):
            ids = self._ids(self.client.get(self.url, {"ordering": ordering}))
            self.assertEqual(ids[-1], str(self.alice_queued.id), ordering)

    def test_any_iso_offset_or_extreme_date_is_a_filter_not_an_error(self):
        self.as_user(self.alice)
        everything = {str(self.alice_fake.id), str(self.alice_real.id), str(self.alice_queued.id)}
        # PostgreSQL refuses offsets beyond +-15:59 that ISO 8601 and Python accept.
        self.assertEqual(
            set(
                self._ids(self.client.get(self.url, {"created_after": "2001-02-03T04:05:06-16:31"}))
            ),
            everything,
        )
        # Before year 1 (or after 9999) once in UTC: everything is after it, nothing before.
        early = "0001-01-01T00:00:00+05:00"
        self.assertEqual(
            set(self._ids(self.client.get(self.url, {"created_after": early}))), everything
        )
        self.assertEqual(self._ids(self.client.get(self.url, {"created_before": early})), [])
        late = "9999-12-31T23:00:00-05:00"
        self.assertEqual(self._ids(self.client.get(self.url, {"created_after": late})), [])
        self.assertEqual(
            set(self._ids(self.client.get(self.url, {"created_before": late}))), everything
        )

    def test_bad_filter_values_get_the_error_shape(self):
        self.as_user(self.alice)
        body = self.assertError(self.client.get(self.url, {"status": "exploded"}), 400, "invalid")
        self.assertIn("status", body["field_errors"])
        body = self.assertError(
            self.client.get(self.url, {"created_after": "yesterday"}), 400, "invalid"
        )
        self.assertIn("created_after", body["field_errors"])

    def test_it_paginates(self):
        self.as_user(self.alice)
        first = self.client.get(self.url, {"page_size": 2}).json()
        self.assertEqual((first["count"], len(first["results"])), (3, 2))
        self.assertIsNotNone(first["next"])
        second = self.client.get(first["next"]).json()
        self.assertEqual(len(second["results"]), 1)
        self.assertError(self.client.get(self.url, {"page": 99}), 404, "not_found")


class JobDetailTests(ApiTestCase):
    def setUp(self):
        super().setUp()
        self.job = done_job(uploader=self.alice, verdict="fake", probability=0.8)
        self.url = reverse("api:job-detail", args=[self.job.id])

    # A site that lets uploaders see the scores (the default hides them from uploaders:
    # tests/moderation/test_uploader_visibility.py).
    @override_settings(MODERATION_HIDE_SCORES_FROM_UPLOADERS=False)
    def test_the_owner_gets_the_full_result(self):
        PersonResult.objects.create(job=self.job, index=0, fake_probability=0.8, frames_seen=1)
        self.as_user(self.alice)
        body = self.client.get(self.url).json()
        self.assertEqual(
            (body["status"], body["verdict"], body["fake_probability"]), ("done", "fake", 0.8)
        )
        self.assertEqual(body["video"]["uploaded_by"], "alice")
        self.assertTrue(body["model_version"]["is_active"])
        self.assertEqual(len(body["frames"]), 1)
        face = body["frames"][0]["faces"][0]
        self.assertEqual(face["box"], {"x": 0, "y": 0, "w": 10, "h": 10})
        self.assertEqual(face["fake_probability"], 0.8)
        # The person has no face rows here (made apart from the job's one face): no size.
        self.assertEqual(
            body["persons"],
            [
                {
                    "index": 0,
                    "fake_probability": 0.8,
                    "frames_seen": 1,
                    "counts_for_video": True,
                    "branches": {},
                    "segments": [],
                    "face_px": None,
                }
            ],
        )
        version = self.job.model_version
        self.assertEqual(
            body["face_size"],
            {
                "px": 10,
                "model_px": round(
                    version.serving.input_size / (1 + 2 * version.serving.face_margin)
                ),
                "small": True,
            },
        )
        self.assertEqual(body["frames_sampled"], 1)

    def test_a_queued_job_has_no_result_yet(self):
        job = JobFactory(video=VideoFactory(uploaded_by=self.alice))
        self.as_user(self.alice)
        body = self.client.get(reverse("api:job-detail", args=[job.id])).json()
        self.assertEqual(
            (body["status"], body["verdict"], body["fake_probability"]),
            (JobStatus.QUEUED, None, None),
        )
        self.assertEqual((body["frames"], body["persons"], body["started_at"]), ([], [], None))

    def test_a_failed_job_says_why(self):
        job = JobFactory(
            video=VideoFactory(uploaded_by=self.alice),
            status=JobStatus.FAILED,
            error_code="not_a_video",
            error="The file could not be opened.",
        )
        self.as_user(self.alice)
        body = self.client.get(reverse("api:job-detail", args=[job.id])).json()
        self.assertEqual(
            (body["error_code"], body["error"]), ("not_a_video", "The file could not be opened.")
        )

    def test_someone_elses_job_is_404_like_a_missing_one(self):
        self.as_user(self.bob)
        self.assertError(self.client.get(self.url), 404, "not_found")
        self.assertError(
            self.client.get(reverse("api:job-detail", args=[uuid.uuid4()])), 404, "not_found"
        )

    def test_moderators_and_admins_see_any_job(self):
        for user in (self.mod, self.root):
            self.as_user(user)
            self.assertEqual(self.client.get(self.url).status_code, 200)

    def test_the_job_webhook_log_has_the_same_visibility(self):
        url = reverse("api:job-webhooks", args=[self.job.id])
        self.as_user(self.alice)
        self.assertEqual(self.client.get(url).json(), [])
        self.as_user(self.bob)
        self.assertError(self.client.get(url), 404, "not_found")
        self.as_user(self.mod)
        self.assertEqual(self.client.get(url).status_code, 200)
