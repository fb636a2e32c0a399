"""A labelled picture is about the face at its centre, even when a neighbour's face is larger:
training and frame-level evaluation both cut that face, never the largest one."""

from types import SimpleNamespace

import cv2
import numpy as np
import pytest
from django.conf import settings

from detection.pipeline import Analyser
from detection.pipeline.types import FaceBox
from detection.training.data.labelled import face_pool, labelled_face
from detection.training.evaluation.evaluate import pipeline_crop
from tests import media

pytestmark = pytest.mark.slow

BIG, SMALL = 400, 260


def _portrait() -> np.ndarray:
    """The fixture's face with a margin of half its size around it."""
    from detection.pipeline.blazeface import BlazeFaceDetector

    image = media.face_image()
    b = BlazeFaceDetector().detect(image)[0]
    cx, cy, half = b.x + b.w // 2, b.y + b.h // 2, max(b.w, b.h)
    y0, x0 = max(0, cy - half), max(0, cx - half)
    return image[y0 : cy + half, x0 : cx + half].copy()


def _picture(big: bool, small: bool) -> np.ndarray:
    """1000x600: a large face near the left edge and a smaller one at the centre."""
    canvas = np.full((600, 1000, 3), 90, np.uint8)
    face = _portrait()
    if big:
        canvas[100 : 100 + BIG, 0:BIG] = cv2.resize(face, (BIG, BIG))
    if small:
        canvas[170 : 170 + SMALL, 435 : 435 + SMALL] = cv2.resize(face, (SMALL, SMALL))
    return canvas


def test_the_face_nearest_the_centre_wins_over_a_larger_one():
    faces = [
        SimpleNamespace(box=FaceBox(0, 0, 300, 300)),
        SimpleNamespace(box=FaceBox(420, 260, 60, 60)),
        SimpleNamespace(box=FaceBox(700, 500, 80, 80)),
    ]
    assert labelled_face(faces, 900, 600) is faces[1]


@pytest.fixture(scope="module")
def analyser():
    return Analyser.from_spec_file(settings.DETECTION_DEFAULT_MODEL_SPEC)


def test_evaluation_cuts_the_central_face(analyser):
    both = _picture(big=True, small=True)
    assert len(analyser.detector.detect(both)) == 2  # both faces are there to choose from
    crop = pipeline_crop(analyser, both)
    alone = pipeline_crop(analyser, _picture(big=False, small=True))
    neighbour = pipeline_crop(analyser, _picture(big=True, small=False))
    assert abs(crop.shape[0] - alone.shape[0]) <= 4
    assert neighbour.shape[0] > 1.4 * crop.shape[0]


def test_training_cuts_the_central_face(tmp_path):
    pools = {}
    for name, big, small in (
        ("both", True, True),
        ("alone", False, True),
        ("neighbour", True, False),
    ):
        folder = tmp_path / name / "fake"
        folder.mkdir(parents=True)
        cv2.imwrite(str(folder / "picture.png"), _picture(big, small))
        pool = face_pool([tmp_path / name], size=96, margin=0.3, progress=False)
        assert len(pool.labels) == 1 and pool.labels[0] == 1
        pools[name] = pool.images[0].astype(np.float32)

    def diff(a, b):
        return float(np.abs(pools[a] - pools[b]).mean())

    # The central face, cut from a picture with or without its neighbour, differs only by the
    # detector's jitter (its eye points move a pixel or two); the neighbour is another cut.
    assert diff("both", "neighbour") > 2 * diff("both", "alone")
