"""A tiny run of the generalising recipe: detected and aligned faces, self-blended fakes, the
EfficientNet-Lite0 classifier, calibration, and a model the pipeline can load."""

import json

import cv2
import numpy as np
import pytest

from detection.pipeline import Analyser
from detection.training.data.labelled import face_pool
from detection.training.recipes.train import BlendTrainConfig, train_blend_model
from tests import media

pytestmark = pytest.mark.slow


def _variants(folder, n, rng, seam=False):
    folder.mkdir(parents=True)
    base = media.face_image()
    for i in range(n):
        image = cv2.convertScaleAbs(base, alpha=rng.uniform(0.8, 1.2), beta=rng.uniform(-20, 20))
        if seam:
            image[80:110, 100:180] = cv2.GaussianBlur(image[80:110, 100:180], (0, 0), 3)
        cv2.imwrite(str(folder / f"{i}.jpg"), image)


@pytest.fixture
def faces(tmp_path):
    rng = np.random.default_rng(0)
    _variants(tmp_path / "labelled" / "real", 8, rng)
    _variants(tmp_path / "labelled" / "fake", 8, rng, seam=True)
    _variants(tmp_path / "pool", 8, rng)
    return tmp_path


def test_training_faces_are_cut_as_the_pipeline_cuts_them(faces):
    pool = face_pool([faces / "pool"], size=80, margin=0.3, label=0, progress=False)
    assert pool.images.shape == (8, 80, 80, 3) and (pool.labels == 0).all()
    right_eye, left_eye = pool.keypoints[0][0], pool.keypoints[0][1]
    assert right_eye[0] < left_eye[0] and abs(right_eye[1] - left_eye[1]) < 2  # levelled
    assert 0 < right_eye[0] < 80 and 0 < left_eye[1] < 80
    # After the six keypoints, the face mesh's outline of each face, in the same crop pixels,
    # around the eyes.
    from detection.training.data.face_mesh import OUTLINE_POINTS, OVAL

    assert pool.keypoints.shape == (8, 6 + len(OUTLINE_POINTS), 2)
    oval = pool.keypoints[0][6:][OVAL]
    assert np.isfinite(oval).all()
    assert oval[:, 0].min() < right_eye[0] < left_eye[0] < oval[:, 0].max()


def test_a_tiny_run_writes_a_model_the_pipeline_can_use(faces, tmp_path, clips):
    report = train_blend_model(
        BlendTrainConfig(
            labelled_dirs=[faces / "labelled"],
            real_pools=[faces / "pool"],
            val_dir=None,
            out_dir=tmp_path / "out",
            name="tiny_lite",
            version="0",
            input_size=64,
            epochs=1,
            samples_per_epoch=32,
            batch_size=16,
            calibration_fraction=0.25,
            progress=False,
        )
    )
    spec = json.loads(report.spec_path.read_text())
    assert spec["architecture"] == "efficientnet_lite0" and spec["channels"] == 3
    assert spec["metrics"]["training"]["epochs_run"] == 1
    assert len(report.history["val_auc"]) == 1
    result = Analyser.from_spec_file(report.spec_path).analyse(clips["face"])
    assert result.frames_with_face >= 28 and 0.0 <= result.fake_probability <= 1.0
