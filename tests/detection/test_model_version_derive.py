"""Changing a threshold or a calibration is a new version: v+1 serves the parent's weights
with the new numbers, and the parent keeps its meaning."""

import pytest
from django.core.exceptions import ValidationError

from detection.selectors import model_version_active
from detection.services import model_version_derive
from tests.factories import UserFactory, done_job

pytestmark = pytest.mark.django_db


def test_a_new_band_is_a_new_version_of_the_same_weights():
    done_job(uploader=UserFactory(username="alice"))
    parent = model_version_active()
    before = dict(parent.spec)
    child = model_version_derive(
        parent=parent,
        changes={"video_uncertain_low": 0.3, "video_uncertain_high": 0.8},
        notes="Band widened after a month of decisions.",
    )
    assert (child.name, child.version) == (parent.name, str(int(parent.version) + 1))
    assert child.state == "candidate" and child.derived_from == parent
    assert child.video_band == (0.3, 0.8)
    assert child.spec["weights_sha256"] == parent.spec["weights_sha256"]
    assert child.resolved_weights_path == parent.resolved_weights_path
    parent.refresh_from_db()
    assert parent.spec == before and parent.is_active


def test_a_derived_version_is_checked_like_any_other():
    parent = model_version_active()
    with pytest.raises(ValidationError, match="video band"):
        model_version_derive(
            parent=parent,
            changes={"video_uncertain_low": 0.9, "video_uncertain_high": 0.2},
            notes="",
        )
    with pytest.raises(ValidationError, match="cannot change"):
        model_version_derive(parent=parent, changes={"weights_typo": 1}, notes="")
