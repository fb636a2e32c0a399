"""A shadow version against the active one, on the items moderators decided."""

import pytest

from detection.models import JobStatus, ModelState, ShadowResult
from detection.selectors import model_version_active
from moderation.selectors import shadow_comparison
from tests.factories import UserFactory, model_version_like_active
from tests.moderation.helpers import decided_with_shadow, routed, shadow_scored

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(settings):
    settings.MODERATION_DOUBLE_REVIEW_RATE = 0.0
    return UserFactory(username="alice"), UserFactory(username="mo", role="moderator")


def test_the_comparison_counts_decided_items_and_reads_each_version_against_them(people):
    alice, mo = people
    active = model_version_active()
    high = active.video_band[1]
    shadow = model_version_like_active(name="s", state=ModelState.SHADOW)
    # (truth, active's p, shadow's p): the active misses a fake and flags a real; the shadow
    # ranks every fake above every real.
    for truth, a, s in [
        ("fake", 0.95, 0.9),
        ("fake", 0.2, 0.8),
        ("fake", 0.9, 0.7),
        ("real", 0.9, 0.3),
        ("real", 0.1, 0.2),
        ("real", 0.05, 0.1),
    ]:
        decided_with_shadow(
            uploader=alice, moderator=mo, truth=truth, active_p=a, shadow=shadow, shadow_p=s
        )
    # Scored in shadow but not decided: counts for "sent to review" only.
    shadow_scored(routed(uploader=alice, probability=0.02, verdict="real"), shadow, 0.99)
    row = routed(uploader=alice, probability=0.01, verdict="real")
    ShadowResult.objects.create(
        job=row.job, model_version=shadow, status=JobStatus.FAILED, error="weights missing"
    )

    c = shadow_comparison(candidate=shadow)
    assert (c.active, c.decided, c.fakes, c.reals) == (active, 6, 3, 3)
    assert c.candidate_auc == 1.0 and c.active_auc < 1.0
    assert c.active_threshold == high
    assert c.active_fpr == pytest.approx(1 / 3)  # the real at 0.9
    assert c.active_recall == pytest.approx(2 / 3)  # the fake at 0.2 is missed
    assert c.candidate_fpr <= c.active_fpr and c.candidate_recall == 1.0
    assert c.scored == 7 and c.failures == 1
    # The active would send the two 0.9s and the 0.95 (and nothing cleared); the shadow, with
    # the same band, its scores at or above the band's low end.
    low = active.video_band[0]
    assert c.active_to_review == sum(p >= low for p in [0.95, 0.2, 0.9, 0.9, 0.1, 0.05, 0.02])
    assert c.candidate_to_review == sum(p >= low for p in [0.9, 0.8, 0.7, 0.3, 0.2, 0.1, 0.99])
    assert c.shortfalls(min_decided=6) == []
    assert any("decided" in s for s in c.shortfalls(min_decided=7))


def test_a_candidate_that_scored_nothing_has_no_figures(people):
    shadow = model_version_like_active(name="s", state=ModelState.SHADOW)
    c = shadow_comparison(candidate=shadow)
    assert (c.decided, c.candidate_auc, c.active_auc, c.scored) == (0, None, None, 0)
    assert c.shortfalls(min_decided=1)
