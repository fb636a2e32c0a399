"""A release is `manage.py register_model SPEC`: no migration, no code change; the same spec
twice is a no-op, another spec under a registered number is refused, and the files' SHA-256
are pinned."""

import json
import shutil
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from detection.models import ModelVersion
from detection.pipeline.classify import file_sha256

pytestmark = pytest.mark.django_db

BASELINE = settings.BASE_DIR / "detection" / "models" / "paper_cnn_v1.json"


@pytest.fixture
def release(tmp_path):
    """A new version's spec, weights and card in a folder of their own, as training leaves
    them (the paper baseline's files under another name)."""
    spec = json.loads(BASELINE.read_text())
    for name in (spec["weights_file"], spec["serving_file"]):
        shutil.copy(BASELINE.parent / name, tmp_path / name)
    spec.update(name="cnn_site", version="1")
    path = tmp_path / "cnn_site_v1.json"
    path.write_text(json.dumps(spec))
    (tmp_path / "cnn_site_v1.md").write_text("# cnn_site v1\n\nWhat it was trained on.\n")
    return path


def _register(*args) -> str:
    out = StringIO()
    call_command("register_model", *map(str, args), stdout=out)
    return out.getvalue()


def test_a_release_is_one_command_and_starts_as_a_candidate(release):
    assert "registered cnn_site v1 (candidate)" in _register(release)
    row = ModelVersion.objects.get(name="cnn_site", version="1")
    assert row.state == "candidate" and row.card.startswith("# cnn_site v1")
    weights = release.parent / "paper_cnn_v1.keras"
    assert row.spec["weights_file"] == str(weights)
    assert row.spec["weights_sha256"] == file_sha256(weights)
    assert row.spec["serving_sha256"] == file_sha256(release.parent / "paper_cnn_v1.tflite")
    assert row.metrics and "serving" not in row.metrics
    # The same spec again changes nothing.
    _register(release)
    assert ModelVersion.objects.filter(name="cnn_site").count() == 1


def test_it_can_start_in_shadow(release):
    assert "(shadow)" in _register(release, "--shadow")


def test_another_spec_under_a_registered_number_is_refused(release):
    _register(release)
    spec = json.loads(release.read_text())
    spec["uncertain_high"] = 0.9
    release.write_text(json.dumps(spec))
    with pytest.raises(CommandError, match="new version number"):
        _register(release)
    assert ModelVersion.objects.get(name="cnn_site").uncertain_high != 0.9


def test_weights_that_are_not_the_pinned_ones_are_refused(release):
    spec = json.loads(release.read_text())
    assert spec["weights_sha256"]  # the shipped spec pins its weights
    (release.parent / "paper_cnn_v1.keras").write_bytes(b"other weights")
    with pytest.raises(CommandError, match="not the file this spec was made with"):
        _register(release)
    assert not ModelVersion.objects.filter(name="cnn_site").exists()


def test_a_spec_with_unknown_or_ill_typed_fields_is_refused(release):
    spec = json.loads(release.read_text())
    spec["uncertain_high"] = "high"
    release.write_text(json.dumps(spec))
    with pytest.raises(CommandError, match="uncertain_high must be"):
        _register(release)
