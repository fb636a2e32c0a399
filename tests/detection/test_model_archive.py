"""A version whose weights left the repository comes back from one archive file
(`export_model` / `import_model`): weights, spec and card, every file checked by SHA-256."""

import io
import json
import shutil
import tarfile
from dataclasses import replace
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from detection.models import ModelVersion
from detection.pipeline.classify import file_sha256
from detection.pipeline.spec import ModelSpec
from detection.services import model_version_pins

pytestmark = pytest.mark.django_db

BASELINE = settings.BASE_DIR / "detection" / "models" / "paper_cnn_v1.json"


@pytest.fixture
def registered(tmp_path):
    """A version registered from files of its own (the baseline's, renamed)."""
    folder = tmp_path / "release"
    folder.mkdir()
    spec = json.loads(BASELINE.read_text())
    for name in (spec["weights_file"], spec["serving_file"]):
        shutil.copy(BASELINE.parent / name, folder / name)
    spec.update(name="cnn_site", version="3")
    path = folder / "cnn_site_v3.json"
    path.write_text(json.dumps(spec))
    (folder / "cnn_site_v3.md").write_text("# cnn_site v3\n")
    call_command("register_model", str(path), stdout=StringIO())
    return ModelVersion.objects.get(name="cnn_site", version="3"), folder


def _run(*args) -> str:
    out = StringIO()
    call_command(*map(str, args), stdout=out)
    return out.getvalue()


def test_export_then_import_restores_a_retired_versions_weights(registered, tmp_path):
    version, folder = registered
    _run("export_model", "cnn_site:3", "--out", tmp_path)
    archive = tmp_path / "cnn_site_v3.tar.gz"
    with tarfile.open(archive) as tar:
        names = set(tar.getnames())
    assert {"MANIFEST.json", "spec.json", "card.md"} <= names
    assert {"weights/paper_cnn_v1.keras", "weights/paper_cnn_v1.tflite"} <= names

    pinned = version.spec["weights_sha256"]
    for name in ("paper_cnn_v1.keras", "paper_cnn_v1.tflite"):
        (folder / name).unlink()
    version.refresh_from_db()
    assert not version.weights_present

    out = _run("import_model", archive)
    assert "restored cnn_site v3" in out
    version.refresh_from_db()
    assert version.weights_present
    assert file_sha256(folder / "paper_cnn_v1.keras") == pinned
    # The record is untouched: the same spec, the same card.
    assert version.spec["weights_sha256"] == pinned and version.card == "# cnn_site v3\n"


def test_a_version_new_to_the_site_is_registered_from_its_archive(tmp_path, settings):
    # Another site's version: a record of its own, exported, then gone from this database.
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    spec = ModelSpec.load(BASELINE)
    for name in (spec.weights_file, spec.serving_file):
        shutil.copy(BASELINE.parent / name, folder / name)
    spec = replace(spec, name="cnn_site", version="3", weights_file=str(folder / spec.weights_file))
    version = ModelVersion.objects.create(
        name="cnn_site",
        version="3",
        spec={**spec.serving_config(), **model_version_pins(spec=spec)},
        card="# cnn_site v3\n",
    )
    archive = tmp_path / "moved.tar.gz"
    _run("export_model", "cnn_site:3", "--out", archive)
    version.delete()
    settings.DETECTION_MODEL_STORE = tmp_path / "store"
    assert "registered cnn_site v3 (shadow)" in _run("import_model", archive, "--shadow")
    imported = ModelVersion.objects.get(name="cnn_site", version="3")
    assert imported.resolved_weights_path.parent == tmp_path / "store" / "cnn_site_v3"
    assert imported.spec["weights_sha256"] == version.spec["weights_sha256"]
    assert imported.card == "# cnn_site v3\n" and imported.state == "shadow"


def test_an_archive_whose_weights_were_altered_is_refused(registered, tmp_path):
    version, folder = registered
    archive = tmp_path / "cnn_site_v3.tar.gz"
    _run("export_model", "cnn_site:3", "--out", archive)
    altered = tmp_path / "altered.tar.gz"
    with tarfile.open(archive) as src, tarfile.open(altered, "w:gz") as dst:
        for member in src.getmembers():
            data = src.extractfile(member).read()
            if member.name == "weights/paper_cnn_v1.keras":
                data = data[:-1] + bytes([data[-1] ^ 1])
            member.size = len(data)
            dst.addfile(member, io.BytesIO(data))
    (folder / "paper_cnn_v1.keras").unlink()
    with pytest.raises(CommandError, match="SHA-256"):
        _run("import_model", altered)
    assert not (folder / "paper_cnn_v1.keras").exists()


def test_exporting_a_version_whose_weights_are_gone_says_so(registered, tmp_path):
    _, folder = registered
    (folder / "paper_cnn_v1.keras").unlink()
    with pytest.raises(CommandError, match="not on this server"):
        _run("export_model", "cnn_site:3", "--out", tmp_path)
