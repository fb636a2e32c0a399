"""The admin's lifecycle steps: shadow runs, promotion and rollback, each with a reason."""

import pytest
from django.urls import reverse

from detection.models import JobStatus, ModelState, ShadowResult
from detection.selectors import model_version_active
from detection.services import model_version_activate
from tests.factories import PASSWORD, JobFactory, UserFactory, model_version_like_active

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    root = UserFactory(username="root", role="admin", is_staff=True, is_superuser=True)
    client.login(username=root.username, password=PASSWORD)
    client.root = root
    return client


def test_the_promote_page_requires_a_reason(admin_client, settings):
    settings.MODEL_PROMOTION_MIN_DECIDED = 1
    candidate = model_version_like_active(name="cand", state=ModelState.SHADOW)
    url = reverse("admin:detection_modelversion_promote", args=[candidate.pk])
    page = admin_client.get(url)
    assert page.status_code == 200
    assert b"decided items" in page.content and b"AUC" in page.content

    posted = admin_client.post(url, {"reason": "", "override": "on", "override_reason": "x"})
    assert posted.status_code == 200 and b"This field is required" in posted.content
    candidate.refresh_from_db()
    assert (
        candidate.state == ModelState.SHADOW
        and not candidate.events.filter(action="promoted").exists()
    )


def test_a_refused_promotion_shows_its_figures_and_an_override_goes_through(admin_client):
    before = model_version_active()
    candidate = model_version_like_active(name="cand", state=ModelState.SHADOW)
    url = reverse("admin:detection_modelversion_promote", args=[candidate.pk])
    refused = admin_client.post(url, {"reason": "newer"})
    assert refused.status_code == 200 and b"only 0 decided items" in refused.content
    assert model_version_active() == before

    done = admin_client.post(
        url, {"reason": "newer", "override": "on", "override_reason": "urgent fix"}
    )
    assert done.status_code == 302 and model_version_active() == candidate
    event = candidate.events.get(action="promoted")
    assert (event.actor, event.override_reason) == (admin_client.root, "urgent fix")


def test_rollback_from_the_admin_needs_a_reason(admin_client):
    before = model_version_active()
    new = model_version_like_active(name="new")
    model_version_activate(model_version=new, reason="test")
    url = reverse("admin:detection_modelversion_rollback")
    assert admin_client.post(url, {"reason": ""}).status_code == 200
    assert model_version_active() == new
    assert admin_client.post(url, {"reason": "false flags"}).status_code == 302
    assert model_version_active() == before
    assert before.events.get(action="rolled_back").actor == admin_client.root


def test_shadow_runs_start_and_stop_on_a_used_read_only_version(admin_client):
    version = model_version_like_active(name="used")
    ShadowResult.objects.create(job=JobFactory(), model_version=version, status=JobStatus.DONE)
    assert version.is_used
    url = reverse("admin:detection_modelversion_changelist")
    admin_client.post(url, {"action": "shadow_start", "_selected_action": [version.pk]})
    version.refresh_from_db()
    assert version.state == ModelState.SHADOW
    admin_client.post(url, {"action": "shadow_stop", "_selected_action": [version.pk]})
    version.refresh_from_db()
    assert version.state == ModelState.CANDIDATE
    assert list(version.events.order_by("id").values_list("action", flat=True)) == [
        "shadow_started",
        "shadow_stopped",
    ]
    page = admin_client.get(reverse("admin:detection_modelversion_change", args=[version.pk]))
    assert b"Promote\xe2\x80\xa6" in page.content  # its object tool
    assert b"Shadow run started" in page.content  # its history, read-only
