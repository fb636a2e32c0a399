"""A rollback makes the version active before the current one active again, audited."""

import pytest
from django.core.exceptions import ValidationError

from detection.models import ModelState
from detection.selectors import model_version_active
from detection.services import model_version_activate, model_version_rollback
from tests.factories import UserFactory, model_version_like_active

pytestmark = pytest.mark.django_db


def test_rollback_restores_the_previous_active_version_and_records_it():
    ada = UserFactory(username="ada", role="admin")
    before = model_version_active()
    new = model_version_like_active(name="new")
    model_version_activate(model_version=new, by=ada, reason="promoted")
    with pytest.raises(ValidationError, match="needs a reason"):
        model_version_rollback(by=ada, reason="")
    assert model_version_active() == new

    assert model_version_rollback(by=ada, reason="more false flags") == before
    new.refresh_from_db()
    assert model_version_active() == before and new.state == ModelState.RETIRED
    event = before.events.get(action="rolled_back")
    assert (event.actor, event.reason, event.replaced) == (ada, "more false flags", new)
    assert new.events.filter(action="retired").exists()


def test_rollback_without_a_recorded_previous_version_is_refused():
    with pytest.raises(ValidationError, match="no version active before"):
        model_version_rollback(by=None, reason="why not")
