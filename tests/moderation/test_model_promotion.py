"""Promotion rests on the moderators' decisions: a worse candidate is refused, with figures."""

import pytest
from django.core.exceptions import ValidationError

from detection.models import ModelState, ModelVersionEvent
from detection.selectors import model_version_active
from moderation.services import PromotionRefused, model_version_promote
from tests.factories import UserFactory, model_version_like_active
from tests.moderation.helpers import decided_with_shadow

pytestmark = pytest.mark.django_db

# (truth, active's p, candidate's p)
ACTIVE_BETTER = [
    ("fake", 0.95, 0.3),
    ("fake", 0.9, 0.6),
    ("fake", 0.8, 0.2),
    ("real", 0.1, 0.7),
    ("real", 0.2, 0.4),
    ("real", 0.05, 0.8),
]
CANDIDATE_BETTER = [(t, c, a) for t, a, c in ACTIVE_BETTER]


@pytest.fixture
def setup(settings):
    settings.MODERATION_DOUBLE_REVIEW_RATE = 0.0
    settings.MODEL_PROMOTION_MIN_DECIDED = 6
    return (
        UserFactory(username="alice"),
        UserFactory(username="mo", role="moderator"),
        UserFactory(username="ada", role="admin"),
    )


def _scored(rows, uploader, moderator):
    candidate = model_version_like_active(name="cand", state=ModelState.SHADOW)
    for truth, a, c in rows:
        decided_with_shadow(
            uploader=uploader,
            moderator=moderator,
            truth=truth,
            active_p=a,
            shadow=candidate,
            shadow_p=c,
        )
    return candidate


def test_promotion_refuses_a_worse_candidate_unless_overridden_and_records_why(setup):
    alice, mo, ada = setup
    active = model_version_active()
    candidate = _scored(ACTIVE_BETTER, alice, mo)
    with pytest.raises(PromotionRefused) as refused:
        model_version_promote(candidate=candidate, by=ada, reason="newer weights")
    message = " ".join(refused.value.messages)
    assert "AUC 0.111 is below the active version's 1.000" in message
    assert "6 decided items" in message
    candidate.refresh_from_db()
    assert candidate.state == ModelState.SHADOW and model_version_active() == active
    assert not ModelVersionEvent.objects.filter(action="promoted").exists()

    model_version_promote(
        candidate=candidate, by=ada, reason="newer weights", override_reason="legal asked"
    )
    active.refresh_from_db()
    assert model_version_active() == candidate and active.state == ModelState.RETIRED
    event = candidate.events.get(action="promoted")
    assert (event.actor, event.reason, event.override_reason) == (
        ada,
        "newer weights",
        "legal asked",
    )
    assert event.replaced == active
    assert event.comparison["candidate_auc"] == pytest.approx(1 / 9)
    assert event.comparison["active_auc"] == 1.0
    assert event.comparison["decided"] == 6 and event.comparison["shortfalls"]
    assert active.events.filter(action="retired", actor=ada).exists()


def test_a_better_candidate_is_promoted_with_a_reason_and_audited(setup):
    alice, mo, ada = setup
    candidate = _scored(CANDIDATE_BETTER, alice, mo)
    with pytest.raises(ValidationError, match="needs a reason"):
        model_version_promote(candidate=candidate, by=ada, reason="  ")
    model_version_promote(candidate=candidate, by=ada, reason="better on decisions")
    assert model_version_active() == candidate
    event = candidate.events.get(action="promoted")
    assert event.override_reason == "" and event.comparison["shortfalls"] == []
    assert event.comparison["candidate_auc"] == 1.0


def test_too_few_decided_items_is_refused(setup, settings):
    alice, mo, ada = setup
    settings.MODEL_PROMOTION_MIN_DECIDED = 30
    candidate = _scored(CANDIDATE_BETTER, alice, mo)
    with pytest.raises(PromotionRefused, match="only 6 decided items"):
        model_version_promote(candidate=candidate, by=ada, reason="better")
