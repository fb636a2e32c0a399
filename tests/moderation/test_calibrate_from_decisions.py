"""`manage.py calibrate_from_decisions`: a version's video mapping and band refitted on the
site's own decided items, written as a new candidate version."""

from accounts.models import Role
from detection.selectors import model_version_active
from moderation import services
from moderation.selectors import decided_scores_for
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
