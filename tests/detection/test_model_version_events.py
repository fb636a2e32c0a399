"""Every step of a version's life is recorded, and the record cannot be changed."""

import pytest

from detection.models import ModelVersionEvent, ModelVersionEventError
from detection.selectors import model_version_active
from detection.services import model_version_set_state
from tests.factories import UserFactory, model_version_like_active

pytestmark = pytest.mark.django_db


def test_shadow_start_and_stop_are_recorded_with_who_and_why():
    admin = UserFactory(username="ada", role="admin")
    version = model_version_like_active(name="s")
    model_version_set_state(model_version=version, state="shadow", by=admin, reason="try it")
    model_version_set_state(model_version=version, state="candidate", by=admin, reason="enough")
    steps = list(version.events.order_by("id").values_list("action", "actor__username", "reason"))
    assert steps == [("shadow_started", "ada", "try it"), ("shadow_stopped", "ada", "enough")]


def test_events_cannot_be_edited_or_deleted():
    event = ModelVersionEvent.objects.create(
        model_version=model_version_active(), action="promoted", reason="first"
    )
    event.reason = "rewritten"
    with pytest.raises(ModelVersionEventError):
        event.save()
    with pytest.raises(ModelVersionEventError):
        event.delete()
    with pytest.raises(ModelVersionEventError):
        ModelVersionEvent.objects.filter(pk=event.pk).update(reason="rewritten")
    with pytest.raises(ModelVersionEventError):
        ModelVersionEvent.objects.filter(pk=event.pk).delete()
    event.refresh_from_db()
    assert event.reason == "first"
