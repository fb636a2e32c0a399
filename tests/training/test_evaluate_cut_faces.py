"""Frame-level evaluation scores what the pipeline would score: the face, cut with the model's
margin, not the labelled image's own framing."""

import cv2
import numpy as np
import pytest
from django.conf import settings

from detection.pipeline import Analyser
from detection.training.evaluation.evaluate import pipeline_crop, score_images
from tests import media


@pytest.fixture(scope="module")
def analyser():
    return Analyser.from_spec_file(settings.DETECTION_DEFAULT_MODEL_SPEC)


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "real").mkdir()
    (tmp_path / "fake").mkdir()
    face = media.face_image()
    # The same face, framed two ways; wide margins, so the cut never reaches a picture's edge.
    tall = np.full((700, 500, 3), 90, np.uint8)
    tall[200:520, 90:410] = face
    cv2.imwrite(str(tmp_path / "real" / "portrait.png"), tall)
    wide = np.full((600, 900, 3), 90, np.uint8)
    wide[150:470, 500:820] = face
    cv2.imwrite(str(tmp_path / "fake" / "wide.png"), wide)
    cv2.imwrite(str(tmp_path / "fake" / "wall.jpg"), np.full((200, 200, 3), 128, np.uint8))
    return tmp_path


def test_images_are_scored_on_the_face_the_pipeline_would_cut(analyser, folder):
    rows = {r["path"].rsplit("/", 1)[1]: r for r in score_images(analyser, folder, progress=False)}
    assert rows["wall.jpg"]["error"] == "no face" and rows["wall.jpg"]["fake_probability"] is None
    assert rows["wide.png"]["fake_probability"] is not None
    # What was scored is the face, centred, at the model's margin, not the wide picture.
    crop = pipeline_crop(analyser, cv2.imread(str(folder / "fake" / "wide.png")))
    (face,) = analyser.detector.detect(crop)
    side = crop.shape[0]
    assert crop.shape[0] == crop.shape[1] < 400
    assert abs(face.x + face.w / 2 - side / 2) < side * 0.1
    assert face.w == pytest.approx(side / (1 + 2 * analyser.spec.face_margin), rel=0.3)


def test_crops_as_is_scores_each_image_whole(analyser, folder):
    rows = {
        r["path"].rsplit("/", 1)[1]: r
        for r in score_images(analyser, folder, progress=False, cut_faces=False)
    }
    assert rows["wall.jpg"]["fake_probability"] is not None  # scored, face or not
