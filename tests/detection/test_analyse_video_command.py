import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from detection.pipeline.spec import ModelSpec

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def no_database(monkeypatch):
    """As on a fresh checkout, whatever a developer's var/ holds."""
    monkeypatch.setattr(
        "detection.management.commands.analyse_video._database_exists", lambda: False
    )


def test_it_prints_one_json_object_per_input_and_survives_bad_files(clips, capsys, no_database):
    paths = [clips["face"], clips["not_video"], clips["no_face"]]
    with pytest.raises(SystemExit) as exited:  # non-zero because one input failed
        call_command("analyse_video", *map(str, paths), "--json")
    assert exited.value.code == 1
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["path"] for r in rows] == [str(p) for p in paths]
    face, bad, empty = rows
    assert face["verdict"] in {"fake", "real", "uncertain"} and 0 <= face["fake_probability"] <= 1
    assert face["faces_found"] >= 28 and face["frames_sampled"] == 32 and face["error"] is None
    (person,) = face["persons"]  # one face throughout: one person, who decides the score
    assert person["counts_for_video"] and person["fake_probability"] == face["fake_probability"]
    assert (
        bad["verdict"] == "error"
        and bad["fake_probability"] is None
        and "not a video" in bad["error"]
    )
    assert empty["verdict"] == "no_face" and empty["fake_probability"] is None
    assert all(r["seconds"] >= 0 for r in rows)


def test_it_prints_a_readable_table_without_json(clips, capsys, no_database):
    call_command("analyse_video", str(clips["no_face"]))
    out = capsys.readouterr().out
    shipped = ModelSpec.load(settings.DETECTION_DEFAULT_MODEL_SPEC)
    assert f"model: {shipped.name} v{shipped.version} (" in out
    assert f"{settings.DETECTION_DEFAULT_MODEL_SPEC.name})" in out
    assert "no_face" in out and str(clips["no_face"]) in out


@pytest.mark.slow
def test_it_runs_on_a_fresh_checkout_without_creating_a_database(clips, tmp_path):
    env = {
        **os.environ,
        "DEEPFAKE_VAR_DIR": str(tmp_path / "var"),
        "DJANGO_SETTINGS_MODULE": "deepfake_site.settings",
    }
    done = subprocess.run(
        [sys.executable, "manage.py", "analyse_video", str(clips["no_face"]), "--json"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1])["verdict"] == "no_face"
    assert not (tmp_path / "var" / "db.sqlite3").exists()


@pytest.mark.django_db
def test_it_uses_the_active_model_version_when_there_is_a_database(clips, capsys, monkeypatch):
    monkeypatch.setattr(
        "detection.management.commands.analyse_video._database_exists", lambda: True
    )
    call_command("analyse_video", str(clips["no_face"]))
    shipped = ModelSpec.load(settings.DETECTION_DEFAULT_MODEL_SPEC)
    assert f"(database: {shipped.name} v{shipped.version} (active))" in capsys.readouterr().out
