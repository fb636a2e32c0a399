"""Known-answer items seeded into the queue measure each moderator's accuracy."""

from io import StringIO

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.urls import reverse

from detection.models import AnalysisJob
from moderation import selectors, services
from moderation.models import ReviewItem, ReviewState
from tests.base import PlatformTestCase
from tests.factories import PASSWORD, UserFactory, done_job

from .helpers import decided


class KnownAnswerTests(PlatformTestCase):
    def setUp(self):
        super().setUp()
        self.senior = UserFactory(username="sam", role="senior_moderator")
        self.mod2 = UserFactory(username="mod2", role="moderator")
        self.fake_ref = done_job(uploader=self.senior, verdict="fake", probability=0.8)
        self.real_ref = done_job(uploader=self.senior, verdict="real", probability=0.05)

    def test_seeded_items_look_like_others_and_score_accuracy(self):
        fake = services.known_answer_seed(job=self.fake_ref, answer="fake", by=self.senior)
        real = services.known_answer_seed(job=self.real_ref, answer="real", by=self.senior)
        # A copy of the analysis, in the queue even when the model would clear it.
        self.assertNotEqual(fake.job_id, self.fake_ref.id)
        self.assertEqual(
            fake.job.frames.get().faces.get().crop.name,
            self.fake_ref.frames.get().faces.get().crop.name,
        )
        self.assertEqual((fake.state, real.state), (ReviewState.FLAGGED, ReviewState.NEEDS_REVIEW))
        decided(fake, self.mod, "fake")
        decided(real, self.mod, "fake")
        second = services.known_answer_seed(job=self.fake_ref, answer="fake", by=self.senior)
        decided(second, self.mod2, "fake")
        accuracy = {r.key: (r.reviews, r.agreed, r.rate) for r in selectors.known_answer_accuracy()}
        self.assertEqual(accuracy, {"mod": (2, 1, 0.5), "mod2": (1, 1, 1.0)})

    def test_only_seniors_seed_their_own_finished_reference_uploads(self):
        with self.assertRaises(PermissionDenied):
            services.known_answer_seed(job=self.fake_ref, answer="fake", by=self.mod)
        with self.assertRaisesMessage(ValidationError, "your own reference uploads"):
            services.known_answer_seed(
                job=done_job(uploader=self.alice), answer="fake", by=self.senior
            )
        with self.assertRaises(ValidationError):
            services.known_answer_seed(job=self.fake_ref, answer="maybe", by=self.senior)
        self.assertEqual(AnalysisJob.objects.count(), 3)

    def test_the_command_seeds_one(self):
        out = StringIO()
        call_command(
            "moderation_seed_known_answer", str(self.fake_ref.id), "fake", "--by", "sam", stdout=out
        )
        self.assertIn("known answer: fake", out.getvalue())
        self.assertEqual(ReviewItem.objects.filter(known_answer="fake").count(), 1)

    def test_a_senior_seeds_from_their_reference_videos_page(self):
        services.review_item_route(job=self.real_ref)
        page_url = reverse("detection:job_detail", args=[self.real_ref.id])
        self.client.login(username="sam", password=PASSWORD)
        self.assertContains(self.client.get(page_url), 'id="known-answer-form"')
        response = self.client.post(
            reverse("moderation:job_known_answer", args=[self.real_ref.id]),
            {"answer": "real"},
            follow=True,
        )
        self.assertContains(response, "known answer: real")
        self.assertEqual(ReviewItem.objects.filter(known_answer="real").count(), 1)
        # Plain moderators are not offered it, and a post from them is refused.
        self.client.login(username="mod2", password=PASSWORD)
        self.assertNotContains(self.client.get(page_url), 'id="known-answer-form"')
        response = self.client.post(
            reverse("moderation:job_known_answer", args=[self.real_ref.id]), {"answer": "fake"}
        )
        self.assertEqual(response.status_code, 403)
