"""The dashboard reads each decided video's score against its version's video band: the band its
verdict used (fake from the top, real under the bottom), not the face threshold."""

from django.urls import reverse

from detection.models import ModelVersion
from detection.selectors import model_version_active
from moderation import selectors
from tests.base import PlatformTestCase
from tests.factories import PASSWORD, model_version_set_bands

from .helpers import decided, routed


class DashboardVideoBandTests(PlatformTestCase):
    def setUp(self):
        super().setUp()
        # Face band 0.35–0.65 with the face threshold 0.5; videos are fake from 0.673.
        self.version = model_version_set_bands(
            model_version_active(), face=(0.35, 0.65), video=(0.427, 0.673)
        )

    def decide(self, probability, decision, reason, verdict="fake", **job_fields):
        item = routed(uploader=self.alice, verdict=verdict, probability=probability, **job_fields)
        return decided(item, self.mod, decision, reason)

    def test_it_counts_a_score_inside_the_video_band_as_uncertain_not_as_said_fake(self):
        # Above the face threshold (0.5) but under the video band's top: the verdict was uncertain.
        self.decide(0.6, "fake", "artefacts", verdict="uncertain")
        self.decide(0.6, "real", "no_artefacts", verdict="uncertain")
        (row,) = selectors.dashboard_agreement()
        self.assertEqual((row.decided, row.uncertain), (2, 2))
        self.assertEqual((row.tp, row.fp, row.fn, row.tn), (0, 0, 0, 0))
        self.assertEqual((row.precision, row.recall, row.overturn_rate), (None, None, None))

    def test_a_video_from_the_band_top_judged_real_is_a_false_positive(self):
        self.decide(0.7, "real", "model_error")
        self.decide(0.673, "fake", "artefacts")  # the band's top itself is fake
        (row,) = selectors.dashboard_agreement()
        self.assertEqual((row.tp, row.fp, row.fn, row.tn, row.uncertain), (1, 1, 0, 0, 0))
        self.assertEqual(row.precision, 0.5)

    def test_a_video_under_the_band_judged_fake_is_a_false_negative(self):
        self.decide(0.42, "fake", "artefacts", verdict="real")
        self.decide(0.427, "fake", "artefacts", verdict="uncertain")  # the band's bottom: uncertain
        (row,) = selectors.dashboard_agreement()
        self.assertEqual((row.tp, row.fp, row.fn, row.tn, row.uncertain), (0, 0, 1, 0, 1))

    def test_the_overturn_rate_is_over_the_models_calls_only(self):
        self.decide(0.9, "fake", "artefacts")  # TP
        self.decide(0.7, "real", "model_error")  # FP
        self.decide(0.6, "real", "no_artefacts", verdict="uncertain")  # no call
        self.decide(0.1, "real", "no_artefacts", verdict="real")  # TN
        (row,) = selectors.dashboard_agreement()
        self.assertEqual((row.scored, row.uncertain), (3, 1))
        self.assertAlmostEqual(row.overturn_rate, 1 / 3)

    def test_each_version_is_read_against_its_own_band(self):
        other = ModelVersion.objects.exclude(pk=self.version.pk).order_by("pk").first()
        model_version_set_bands(other, face=(0.2, 0.55), video=None)  # videos use its face band
        self.decide(0.6, "real", "model_error", model_version=other)  # 0.6 ≥ 0.55: a false positive
        self.decide(0.6, "real", "no_artefacts", verdict="uncertain")  # this version: uncertain
        rows = {row.version: row for row in selectors.dashboard_agreement()}
        theirs = rows[f"{other.name} v{other.version}"]
        ours = rows[f"{self.version.name} v{self.version.version}"]
        self.assertEqual((theirs.band, theirs.fp, theirs.uncertain), ((0.2, 0.55), 1, 0))
        self.assertEqual((ours.band, ours.fp, ours.uncertain), ((0.427, 0.673), 0, 1))

    def test_the_page_writes_each_versions_band_and_its_uncertain_count(self):
        self.decide(0.6, "real", "no_artefacts", verdict="uncertain")
        self.client.login(username="mod", password=PASSWORD)
        page = self.client.get(reverse("moderation:dashboard"))
        band = "fake from 0.673, uncertain 0.427–0.673"
        self.assertContains(page, f"<td>{band}</td>")  # the table
        self.assertContains(page, f'class="label">{band}</text>')  # the chart
        self.assertContains(page, '<th class="num">Uncertain</th>')
        self.assertContains(page, "1 decided, 1 uncertain")


class HeldBackItemsTests(PlatformTestCase):
    """A video below the band that the detector held back from clearing (its verdict is
    uncertain, routing sent it to review) is not counted as the model saying real."""

    def test_a_held_back_item_counts_as_uncertain(self):
        version = model_version_set_bands(
            model_version_active(), face=(0.35, 0.65), video=(0.427, 0.673)
        )
        item = routed(uploader=self.alice, verdict="uncertain", probability=0.2)
        decided(item, self.mod, "fake", "artefacts")
        (row,) = selectors.dashboard_agreement()
        self.assertEqual(row.version, f"{version.name} v{version.version}")
        self.assertEqual((row.uncertain, row.fn, row.tn, row.scored), (1, 0, 0, 0))
