"""`manage.py evaluate_model` on small generated data: figures, breakdowns, plots, model card."""

import json
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from PIL import Image
from sklearn.metrics import roc_auc_score

from detection.pipeline.classify import KerasFaceClassifier
from detection.pipeline.spec import ModelSpec
from tests import media

pytestmark = pytest.mark.slow

SHIPPED = Path(settings.DETECTION_DEFAULT_MODEL_SPEC)


def _crops(folder, n, rng, seam):
    folder.mkdir(parents=True)
    base = cv2.resize(media.face_image(), (96, 96))
    for i in range(n):
        image = base + rng.normal(0, 12, base.shape)
        if seam:  # a bright blending seam
            image[:, 40:52] += 70
        cv2.imwrite(str(folder / f"{i}.png"), np.clip(image, 0, 255).astype(np.uint8))


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("eval")
    rng = np.random.default_rng(1)
    _crops(root / "c23" / "real" / "youtube", 12, rng, seam=False)
    _crops(root / "c23" / "fake" / "MethodA", 6, rng, seam=True)
    _crops(root / "c40" / "fake" / "MethodB", 6, rng, seam=True)
    (root / "c23" / "fake" / "MethodA" / "broken.png").write_bytes(b"not an image")
    (root / "videos" / "real" / "cam").mkdir(parents=True)
    (root / "videos" / "fake" / "swap").mkdir(parents=True)
    media.face_clip(root / "videos" / "real" / "cam" / "a.mp4", n_frames=8)
    media.face_clip(root / "videos" / "fake" / "swap" / "b.mp4", n_frames=10)
    media.no_face_clip(root / "videos" / "fake" / "swap" / "c.mp4", n_frames=8)
    media.empty_file(root / "videos" / "real" / "cam" / "d.mp4")
    return root


@pytest.fixture
def model(tmp_path):
    """A copy of the shipped model, so --write-card can rewrite its spec and card."""
    spec = ModelSpec.load(SHIPPED)
    for name in (spec.weights_file, spec.serving_file):
        shutil.copy(SHIPPED.parent / name, tmp_path / name)
    path = tmp_path / SHIPPED.name
    shutil.copy(SHIPPED, path)
    return path


def _run(*args):
    call_command(
        "evaluate_model",
        *[str(a) for a in args],
        "--frames",
        "4",
        "--crops-as-is",
        verbosity=0,
        stdout=open("/dev/null", "w"),
    )


def test_it_reports_frame_and_video_figures_with_breakdowns_and_plots(data, model, tmp_path):
    out = tmp_path / "report"
    _run("--data", data, "--model", model, "--out", out)
    report = json.loads((out / "report.json").read_text())
    assert report["model"]["backend"] == "litert"

    frames = report["frames"]
    assert frames["n"] == 24 and frames["n_fake"] == 12 and frames["unreadable"] == 1
    # The AUC is the one the Keras model's own scores give (calibration keeps the order).
    spec = ModelSpec.load(model)
    paths = sorted(p for p in data.rglob("*.png") if p.name != "broken.png")
    crops = [cv2.imread(str(p)) for p in paths]
    labels = [int("fake" in p.parts) for p in paths]
    raw = KerasFaceClassifier(spec, model.parent / spec.weights_file).score(crops)
    assert frames["raw_auc"] == pytest.approx(roc_auc_score(labels, raw), abs=1e-6)
    assert frames["auc"] == pytest.approx(frames["raw_auc"], abs=1e-6)
    assert 0 <= frames["ece"] <= 1 and 0 <= frames["uncertain_rate"] <= 1
    assert sum(b["count"] for b in frames["reliability"]) == 24
    # Breakdowns by path component: compression and method, each against the other class.
    assert set(frames["by_component"]) == {"c23", "c40", "MethodA", "MethodB", "youtube"}
    assert frames["by_component"]["MethodB"]["n"] == 6 + 12  # its fakes + every real
    assert frames["by_component"]["c23"]["n"] == 18  # both classes inside c23
    assert set(frames["by_group"]) == {"c23/real/youtube", "c23/fake/MethodA", "c40/fake/MethodB"}

    videos = report["videos"]
    overall = videos["overall"]
    assert overall["n"] == 4 and overall["no_face"] == 1 and overall["errors"] == 1
    assert {r["verdict"] for r in videos["videos"]} >= {"no_face", "error"}
    assert set(videos["by_component"]) == {"videos", "cam", "swap"}

    for name in ("frames_roc", "frames_reliability", "videos_roc", "videos_reliability"):
        png = out / report["images"][name]
        with Image.open(png) as image:
            assert image.format == "PNG" and image.size[0] >= 400


def test_write_card_stores_the_figures_in_the_spec_and_renders_the_card(data, model, tmp_path):
    _run("--data", data / "videos", "--model", model, "--out", tmp_path / "r", "--write-card")
    spec = ModelSpec.load(model)
    videos = spec.metrics["videos"]
    assert videos["dir"] == str(data / "videos") and videos["overall"]["n"] == 4
    assert "videos" not in videos  # per-video rows stay in the report, not the spec
    assert spec.metrics["frames"] == ModelSpec.load(SHIPPED).metrics["frames"]  # untouched
    assert spec.serving["file"] == spec.serving_file  # the conversion record kept
    card = model.with_suffix(".md").read_text()
    assert "### Video level" in card and "No face found in 1 of 4 videos" in card
    assert f"![roc]({model.stem}.videos_roc.png)" in card
    assert (model.parent / f"{model.stem}.videos_reliability.png").is_file()


def test_it_refuses_a_folder_without_labelled_files(tmp_path, model):
    (tmp_path / "stuff").mkdir()
    (tmp_path / "stuff" / "x.png").write_bytes(b"")
    with pytest.raises(CommandError, match="No labelled"):
        _run("--data", tmp_path / "stuff", "--model", model)
    with pytest.raises(CommandError, match="does not exist"):
        _run("--data", tmp_path / "nope", "--model", model)
