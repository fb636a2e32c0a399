"""`manage.py calibrate_from_decisions`: a version's video mapping and band refitted on the
site's own decided items, written as a new candidate version."""

from io import StringIO
from statistics import NormalDist

import numpy as np
from django.core.management import CommandError, call_command

from accounts.models import Role
from detection.models import ModelState, ModelVersion
from detection.pipeline.spec import sigmoid
from detection.selectors import model_version_active
from detection.training.evaluation.calibration import error_rate_band
from moderation import services
from moderation.selectors import calibration_from_decisions, decided_scores_for
from tests.base import PlatformTestCase
from tests.factories import UserFactory

from .helpers import decided, routed


class DecidedScoresTests(PlatformTestCase):
    def setUp(self):
        super().setUp()
        self.version = model_version_active()

    def _decided(self, probability, decision, *, faces=True, uploader=None):
        verdict = "no_face" if not faces else ("fake" if probability >= 0.5 else "real")
        item = routed(
            uploader=uploader or self.alice, verdict=verdict, probability=probability, faces=faces
        )
        reason = "artefacts" if decision == "fake" else "no_artefacts"
        return decided(item, self.mod, decision=decision, reason=reason)

    def test_decided_items_are_labelled_by_their_final_state_with_their_routed_score(self):
        self._decided(0.9, "fake")
        self._decided(0.7, "real")
        self._decided(0.2, "fake")
        routed(uploader=self.alice, probability=0.95)  # waiting: no decision yet
        scores = decided_scores_for(self.version)
        self.assertEqual(scores.labels, [1, 0, 1])
        self.assertEqual(scores.probabilities, [0.9, 0.7, 0.2])
        self.assertEqual(scores.left_out, 0)

    def test_decided_items_without_a_face_are_left_out_and_counted(self):
        self._decided(0.9, "fake")
        self._decided(None, "real", faces=False)
        scores = decided_scores_for(self.version)
        self.assertEqual((scores.labels, scores.left_out), ([1], 1))

    def test_an_appealed_item_counts_again_only_once_it_is_decided_again(self):
        item = self._decided(0.8, "fake")
        services.review_item_appeal(job_id=item.job_id, uploader=self.alice, message="it is me")
        self.assertEqual(decided_scores_for(self.version).labels, [])

    def test_known_answer_items_are_not_the_sites_decisions(self):
        senior = UserFactory(username="senior", role=Role.SENIOR_MODERATOR)
        original = routed(uploader=senior, probability=0.8)
        copy = services.known_answer_seed(job=original.job, answer="fake", by=senior)
        decided(copy, self.mod, decision="real", reason="no_artefacts")
        self.assertEqual(decided_scores_for(self.version).labels, [])


# The generated site: a person's logit z is N(0.75, 1) for fakes and N(-1.25, 1) for reals,
# so with as many of each the true probability of a fake is q = sigmoid(2 z + 0.5); the
# version stored p = sigmoid(z).
TRUE_A, TRUE_B = 2.0, 0.5


def generated_site(n_per_class=40):
    """(labels, z): each class's logits at evenly spaced quantiles of its normal."""
    unit = NormalDist()
    spread = np.array([unit.inv_cdf((i + 0.5) / n_per_class) for i in range(n_per_class)])
    return np.array([1] * n_per_class + [0] * n_per_class), np.concatenate(
        [0.75 + spread, -1.25 + spread]
    )


class GeneratedDecisionsTestCase(PlatformTestCase):
    def setUp(self):
        super().setUp()
        self.version = model_version_active()

    def decide(self, probability, decision, *, faces=True):
        verdict = "no_face" if not faces else ("fake" if probability >= 0.5 else "real")
        item = routed(uploader=self.alice, verdict=verdict, probability=probability, faces=faces)
        reason = "artefacts" if decision == "fake" else "no_artefacts"
        return decided(item, self.mod, decision=decision, reason=reason)

    def decide_generated_site(self, n_per_class=40):
        labels, z = generated_site(n_per_class)
        for label, p in zip(labels, sigmoid(z), strict=True):
            self.decide(float(p), "fake" if label else "real")
        return labels, z

    def known_band(self, labels, z, max_miss=0.1, max_false_flag=0.1):
        """The band the true probabilities give these items."""
        return error_rate_band(labels, sigmoid(TRUE_A * z + TRUE_B), max_miss, max_false_flag)


class FitFromDecisionsTests(GeneratedDecisionsTestCase):
    def test_the_fit_on_the_sites_decisions_recovers_the_known_mapping_and_band(self):
        labels, z = self.decide_generated_site()
        fit = calibration_from_decisions(self.version, max_miss=0.1, max_false_flag=0.1)
        self.assertEqual((fit.n, fit.n_fake, fit.left_out), (80, 40, 0))
        self.assertAlmostEqual(fit.a2, TRUE_A, delta=0.1)
        self.assertAlmostEqual(fit.b2, TRUE_B, delta=0.1)
        low, high = self.known_band(labels, z)
        self.assertAlmostEqual(fit.low, low, delta=0.02)
        self.assertAlmostEqual(fit.high, high, delta=0.02)


def run_command(*args) -> str:
    out = StringIO()
    call_command("calibrate_from_decisions", *args, stdout=out)
    return out.getvalue()


class CalibrateFromDecisionsCommandTests(GeneratedDecisionsTestCase):
    def test_it_writes_a_candidate_version_that_recovers_the_known_band(self):
        labels, z = self.decide_generated_site()
        printed = run_command()
        new = ModelVersion.objects.get(derived_from=self.version)
        self.assertEqual((new.name, new.state), (self.version.name, ModelState.CANDIDATE))
        self.assertIn(f"wrote {new.name} v{new.version}, a candidate", printed)
        self.assertIn("shadow and promotion", printed)
        self.assertEqual(model_version_active(), self.version)  # nothing changes what serves
        # The new band is the one the true probabilities give these items ...
        spec = new.to_spec()
        low, high = self.known_band(labels, z)
        self.assertAlmostEqual(spec.video_band[0], low, delta=0.02)
        self.assertAlmostEqual(spec.video_band[1], high, delta=0.02)
        # ... and its combiner gives each video the true probability: logit(p) = 2 z + 0.5,
        # where the parent's gave z.
        old = self.version.to_spec().fusion_spec.combiner
        combiner = spec.fusion_spec.combiner
        self.assertAlmostEqual(
            combiner.weights[0], TRUE_A * old.weights[0], delta=0.1 * old.weights[0]
        )
        self.assertAlmostEqual(combiner.bias, TRUE_A * old.bias + TRUE_B, delta=0.1)
        figures = new.metrics["calibration_from_decisions"]
        self.assertEqual((figures["n"], figures["n_fake"], figures["left_out"]), (80, 40, 0))
        self.assertEqual(figures["band"], list(spec.video_band))
        self.assertEqual(figures["before_band"], list(self.version.video_band))
        self.assertLess(figures["loo"]["balanced_ece"], figures["before"]["balanced_ece"])

    def test_a_dry_run_prints_the_figures_and_writes_nothing(self):
        self.decide_generated_site(n_per_class=12)
        self.decide(None, "real", faces=False)
        versions = ModelVersion.objects.count()
        printed = run_command("--dry-run", "--max-miss", "0.2")
        self.assertEqual(ModelVersion.objects.count(), versions)
        self.assertIn(
            "24 decided items (12 confirmed fake, 12 judged real), 1 without a face left out",
            printed,
        )
        self.assertIn("at most 20% of fakes called real", printed)
        self.assertIn("leave-one-out", printed)
        self.assertIn("dry run: nothing written", printed)

    def test_too_few_decisions_are_refused_with_the_counts(self):
        self.decide_generated_site(n_per_class=9)
        versions = ModelVersion.objects.count()
        with self.assertRaisesMessage(CommandError, "9 confirmed fake and 9 judged real"):
            run_command()
        self.assertEqual(ModelVersion.objects.count(), versions)
        # The minimum is the operator's to lower.
        self.assertIn("18 decided items", run_command("--dry-run", "--min-per-class", "9"))

    def test_a_version_is_calibrated_on_its_own_decisions_only(self):
        self.decide_generated_site(n_per_class=10)
        run_command()
        new = ModelVersion.objects.get(derived_from=self.version)
        # The new version scored nothing yet: the parent's decisions are not its own.
        with self.assertRaisesMessage(CommandError, "0 confirmed fake and 0 judged real"):
            run_command("--model", f"{new.name}:{new.version}", "--dry-run")
        with self.assertRaisesMessage(CommandError, "no registered version"):
            run_command("--model", f"{new.name}:99")
