"""A tiny end-to-end training run on generated crops: train, calibrate, save, reload, evaluate."""

import json

import cv2
import numpy as np
import pytest

from detection.pipeline import Analyser
from detection.training.data.labelled import labelled_files, load_faces
from detection.training.recipes.train import TrainConfig, train_and_evaluate
from tests import media

pytestmark = pytest.mark.slow


def _crops(folder, label, n, rng):
    folder.mkdir(parents=True)
    for i in range(n):
        image = rng.normal(128, 20, (48, 48, 3))
        if label == "fake":  # a visible blending seam: learnable in a couple of epochs
            image[:, 20:28] += 90
        cv2.imwrite(str(folder / f"{label}_{i}.png"), np.clip(image, 0, 255).astype(np.uint8))


@pytest.fixture
def tiny_data(tmp_path):
    rng = np.random.default_rng(0)
    for split, n in (("train", 60), ("val", 20)):
        for label in ("real", "fake"):
            _crops(tmp_path / split / label, label, n, rng)
    videos = tmp_path / "videos"
    (videos / "real" / "src").mkdir(parents=True)
    (videos / "fake" / "method").mkdir(parents=True)
    media.face_clip(videos / "real" / "src" / "a.mp4", n_frames=8)
    media.no_face_clip(videos / "fake" / "method" / "b.mp4", n_frames=8)
    return tmp_path


def test_labels_come_from_the_innermost_real_or_fake_folder(tiny_data):
    files = labelled_files(tiny_data / "videos", {".mp4"})
    assert [(p.name, label, group) for p, label, group in files] == [
        ("b.mp4", 1, "fake/method"),
        ("a.mp4", 0, "real/src"),
    ]


def test_a_tiny_training_run_writes_a_usable_calibrated_model(tiny_data, tmp_path):
    out = tmp_path / "out"
    report = train_and_evaluate(
        TrainConfig(
            train_dir=tiny_data / "train",
            val_dir=tiny_data / "val",
            out_dir=out,
            name="tiny",
            version="0",
            epochs=4,
            batch_size=16,
            progress=False,
        ),
        videos_dir=tiny_data / "videos",
        cut_faces=False,
    )  # the crops are synthetic: no faces
    spec = json.loads(report.spec_path.read_text())
    assert report.weights_path.is_file()
    assert spec["metrics"]["frames"]["auc"] > 0.9  # the seam is easy to see
    assert spec["metrics"]["frames"]["n"] == 40
    videos = spec["metrics"]["videos"]
    assert videos["overall"]["n"] == 2 and videos["overall"]["no_face"] == 1
    assert 0 <= spec["uncertain_low"] <= 0.5 <= spec["uncertain_high"] <= 1
    card = report.spec_path.with_suffix(".md").read_text()
    assert "# Model card: tiny v0" in card and "frame" in card

    # The written files load back into the pipeline and score like the trained model.
    analyser = Analyser.from_spec_file(report.spec_path)
    faces = load_faces(tiny_data / "val", 64, 1, progress=False)
    fake = faces.images[faces.labels == 1][:1]
    real = faces.images[faces.labels == 0][:1]
    logits = analyser.classifier.logits_batch
    assert logits(fake)[0] > logits(real)[0]
