"""The dashboard reads each shadow version against the active one, in numbers."""

import pytest
from django.urls import reverse

from detection.models import ModelState
from tests.factories import PASSWORD, UserFactory, model_version_like_active
from tests.moderation.helpers import decided_with_shadow

pytestmark = pytest.mark.django_db


def test_the_dashboard_shows_each_shadow_version_against_the_active_one(client, settings):
    settings.MODERATION_DOUBLE_REVIEW_RATE = 0.0
    alice, mo = UserFactory(username="alice"), UserFactory(username="mo", role="moderator")
    shadow = model_version_like_active(name="shadowy", state=ModelState.SHADOW)
    for truth, a, s in [("fake", 0.9, 0.8), ("fake", 0.2, 0.7), ("real", 0.5, 0.3)]:
        decided_with_shadow(
            uploader=alice, moderator=mo, truth=truth, active_p=a, shadow=shadow, shadow_p=s
        )
    client.login(username="mo", password=PASSWORD)
    page = client.get(reverse("moderation:dashboard")).content.decode()
    section = page[page.index('id="shadow-versions"') :]
    assert str(shadow) in section
    assert "3 (2 confirmed fake, 1 judged real)" in section
    auc_row = section[section.index("AUC on them") :].split("</tr>")[0]
    assert auc_row.count("0.500") == 1 and auc_row.count("1.000") == 1  # active, shadow
    assert "Would send to review (of 3 uploads both scored)" in section


def test_without_a_shadow_version_the_dashboard_says_so(client):
    UserFactory(username="mo", role="moderator")
    client.login(username="mo", password=PASSWORD)
    page = client.get(reverse("moderation:dashboard")).content.decode()
    assert "No version is in shadow" in page
