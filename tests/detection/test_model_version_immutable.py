"""A version that has analysed anything cannot be edited or deleted, in code or in the admin:
changing a threshold or a calibration is a new version."""

import pytest
from django.urls import reverse

from accounts.models import Role
from detection.models import ModelVersion, ModelVersionFrozen
from detection.selectors import model_version_active
from tests.factories import PASSWORD, UserFactory, done_job, model_version_like_active

pytestmark = pytest.mark.django_db


@pytest.fixture
def used():
    """The active version, once it has analysed a video."""
    done_job(uploader=UserFactory(username="alice"))
    return model_version_active()


def test_code_cannot_change_a_used_versions_numbers(used):
    used.spec = {**used.spec, "video_uncertain_high": 0.95}
    with pytest.raises(ModelVersionFrozen, match="cannot change"):
        used.save()
    used.refresh_from_db()
    used.card = "rewritten"
    with pytest.raises(ModelVersionFrozen):
        used.save()
    with pytest.raises(ModelVersionFrozen):
        ModelVersion.objects.filter(pk=used.pk).update(metrics={})
    with pytest.raises(ModelVersionFrozen, match="cannot be deleted"):
        used.delete()
    with pytest.raises(ModelVersionFrozen):
        ModelVersion.objects.filter(pk=used.pk).delete()
    stored = ModelVersion.objects.get(pk=used.pk)
    assert (
        stored.video_band
        == model_version_active().video_band
        != (
            stored.video_band[0],
            0.95,
        )
    )


def test_its_state_still_moves(used):
    # Promotion and rollback move where a version stands, never what it is.
    ModelVersion.objects.filter(pk=used.pk).update(state="retired")
    assert ModelVersion.objects.get(pk=used.pk).state == "retired"


def test_a_version_that_analysed_nothing_can_still_be_corrected_or_deleted():
    draft = model_version_like_active(version="draft")
    draft.spec = {**draft.spec, "video_uncertain_high": 0.9}
    draft.save()
    assert ModelVersion.objects.get(pk=draft.pk).video_band[1] == 0.9
    draft.delete()
    assert not ModelVersion.objects.filter(pk=draft.pk).exists()


def test_the_admin_shows_a_used_version_read_only_and_refuses_edits_and_deletes(client, used):
    UserFactory(username="root", role=Role.ADMIN, is_staff=True, is_superuser=True)
    client.login(username="root", password=PASSWORD)
    page = client.get(reverse("admin:detection_modelversion_change", args=[used.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="_save"' not in html and 'name="spec"' not in html  # nothing to edit
    assert "lite0_fusion" in html and str(used.video_band[1])[:5] in html
    before = ModelVersion.objects.get(pk=used.pk).spec
    posted = client.post(
        reverse("admin:detection_modelversion_change", args=[used.pk]),
        {"spec": '{"video_uncertain_high": 0.95}', "metrics": "{}", "card": "x"},
    )
    assert posted.status_code == 403
    assert ModelVersion.objects.get(pk=used.pk).spec == before
    deleting = client.post(
        reverse("admin:detection_modelversion_delete", args=[used.pk]), {"post": "yes"}
    )
    assert deleting.status_code == 403
    assert ModelVersion.objects.filter(pk=used.pk).exists()
