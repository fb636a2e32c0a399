"""A version can be released from the admin: a pasted spec, checked like a registration."""

import json

import pytest
from django.conf import settings
from django.urls import reverse

from accounts.models import Role
from detection.models import ModelVersion
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

BASELINE = settings.BASE_DIR / "detection" / "models" / "paper_cnn_v1.json"


@pytest.fixture
def admin_client(client):
    UserFactory(username="root", role=Role.ADMIN, is_staff=True, is_superuser=True)
    client.login(username="root", password=PASSWORD)
    return client


def _spec(**changes) -> dict:
    spec = json.loads(BASELINE.read_text())
    spec = {k: v for k, v in spec.items() if k not in ("metrics", "notes", "trained_at")}
    return {
        **spec,
        "weights_file": "detection/models/paper_cnn_v1.keras",
        "name": "cnn_admin",
        "version": "1",
        **changes,
    }


def _post(client, spec: dict):
    return client.post(
        reverse("admin:detection_modelversion_add"),
        {"spec": json.dumps(spec), "metrics": "{}", "card": "# cnn_admin v1", "notes": ""},
    )


def test_an_admin_releases_a_version_from_a_pasted_spec(admin_client):
    response = _post(admin_client, _spec())
    assert response.status_code == 302, response.content.decode()[:2000]
    row = ModelVersion.objects.get(name="cnn_admin", version="1")
    assert row.state == "candidate" and row.card == "# cnn_admin v1"
    assert row.spec["weights_sha256"] == _spec()["weights_sha256"]


def test_a_bad_spec_is_refused_with_the_reason(admin_client):
    page = _post(admin_client, _spec(uncertain_low=0.9))
    assert page.status_code == 200 and "face band" in page.content.decode()
    page = _post(admin_client, _spec(weights_file="detection/models/nowhere.keras"))
    assert page.status_code == 200 and "No file at" in page.content.decode()
    page = _post(admin_client, _spec(name="paper_cnn"))
    assert "already registered" in page.content.decode()
    assert not ModelVersion.objects.filter(name="cnn_admin").exists()


def test_a_version_that_analysed_nothing_is_corrected_in_the_admin_and_pinned_again(admin_client):
    assert _post(admin_client, _spec()).status_code == 302
    row = ModelVersion.objects.get(name="cnn_admin", version="1")
    url = reverse("admin:detection_modelversion_change", args=[row.pk])
    corrected = {**_spec(uncertain_high=0.7), "weights_sha256": ""}
    # Its history (one "registered" event) is shown read-only below the form.
    history = {"events-TOTAL_FORMS": "0", "events-INITIAL_FORMS": "0"}
    response = admin_client.post(
        url,
        {"spec": json.dumps(corrected), "metrics": "{}", "card": "# fixed", "notes": "", **history},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    row.refresh_from_db()
    assert row.uncertain_high == 0.7 and row.card == "# fixed"
    assert row.spec["weights_sha256"] == _spec()["weights_sha256"]  # pinned again
    renamed = admin_client.post(
        url,
        {
            "spec": json.dumps(_spec(version="9")),
            "metrics": "{}",
            "card": "",
            "notes": "",
            **history,
        },
    )
    assert "another name or number is a release" in renamed.content.decode()
