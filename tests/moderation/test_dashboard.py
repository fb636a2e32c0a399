import datetime as dt

from django.urls import reverse
from django.utils import timezone

from detection.models import ModelVersion
from moderation import selectors
from moderation.models import ReviewItem
from tests.base import PlatformTestCase
from tests.factories import PASSWORD

from .helpers import decided, routed


class DashboardTests(PlatformTestCase):
    def setUp(self):
        super().setUp()
        # Shipped model: fake threshold 0.5. Model calls: fake, fake, real, real.
        decided(routed(uploader=self.alice, probability=0.9), self.mod, "fake")  # TP
        decided(routed(uploader=self.alice, probability=0.7), self.mod, "real", "model_error")  # FP
        decided(
            routed(uploader=self.alice, verdict="real", probability=0.4), self.mod, "fake"
        )  # FN (below the video band and cleared: the model said real)
        decided(
            routed(uploader=self.alice, verdict="real", probability=0.1),
            self.mod,
            "real",
            "no_artefacts",
        )  # TN
        decided(
            routed(uploader=self.alice, verdict="no_face", probability=None, faces=False),
            self.mod,
            "real",
            "no_artefacts",
        )  # no score
        routed(uploader=self.bob, probability=0.95)  # waiting
        old = routed(uploader=self.bob, verdict="uncertain", probability=0.45)
        ReviewItem.objects.filter(pk=old.pk).update(
            created_at=timezone.now() - dt.timedelta(days=3)
        )

    def test_agreement_per_model_version_at_the_current_threshold(self):
        (row,) = selectors.dashboard_agreement()
        active = ModelVersion.objects.get(state="active")
        self.assertEqual(row.version, f"{active.name} v{active.version}")
        self.assertEqual(
            (row.decided, row.no_score, row.tp, row.fp, row.fn, row.tn), (5, 1, 1, 1, 1, 1)
        )
        self.assertEqual((row.precision, row.recall, row.overturn_rate), (0.5, 0.5, 0.5))

    def test_queue_sizes_and_ages(self):
        rows = {r.state: r for r in selectors.dashboard_queue(timezone.now())}
        self.assertEqual((rows["flagged"].count, rows["flagged"].under_hour), (1, 1))
        self.assertEqual((rows["needs_review"].count, rows["needs_review"].under_week), (1, 1))
        self.assertEqual(rows["appealed"].count, 0)

    def test_decisions_per_day(self):
        days = selectors.dashboard_decisions_per_day(timezone.now())
        self.assertEqual(len(days), 14)
        self.assertEqual((days[-1]["confirmed_fake"], days[-1]["overturned_real"]), (2, 3))
        self.assertEqual(sum(d["confirmed_fake"] for d in days[:-1]), 0)

    def test_the_page_draws_the_charts(self):
        self.client.login(username="mod", password=PASSWORD)
        page = self.client.get(reverse("moderation:dashboard"))
        self.assertContains(page, 'aria-label="Decisions per day"')
        self.assertContains(page, 'aria-label="Agreement between model and moderators"')
        self.assertContains(page, "precision: 0.500")
        self.assertContains(page, "3 judged real")
