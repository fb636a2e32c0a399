"""The face mesh gives each training face's outline, in the crop's own pixels."""

import cv2
import numpy as np
import pytest

from detection.training.data.face_mesh import INNER, NOSE_PART, OUTLINE_POINTS, OVAL, FaceMesh
from tests import media


@pytest.fixture(scope="module")
def crop_and_eyes():
    crop, found = media.cut_face(128)
    return crop, found.keypoints[:2]  # the eyes, in the 128 px crop


def test_the_outline_surrounds_the_eyes_nose_and_mouth(crop_and_eyes):
    crop, eyes = crop_and_eyes
    outline = FaceMesh().outline(crop)
    assert outline.shape == (len(OUTLINE_POINTS), 2) and outline.dtype == np.float32
    assert (outline >= 0).all() and (outline <= 128).all()
    oval = outline[OVAL].astype(np.float32).reshape(-1, 1, 2)
    for x, y in list(eyes) + list(outline[NOSE_PART]):
        assert cv2.pointPolygonTest(oval, (float(x), float(y)), False) > 0
    # The inner face lies within the oval, and the oval is wider than the inner face.
    inner = outline[INNER]
    assert np.ptp(outline[OVAL][:, 0]) > np.ptp(inner[:, 0])


def test_the_outline_follows_the_face_when_the_crop_is_larger(crop_and_eyes):
    crop, _ = crop_and_eyes
    mesh = FaceMesh()
    small, large = mesh.outline(crop), mesh.outline(cv2.resize(crop, (256, 256)))
    assert np.abs(large / 2 - small).max() < 4  # the same face in the crop's own pixels


def test_no_outline_where_there_is_no_face():
    assert FaceMesh().outline(np.full((128, 128, 3), 90, np.uint8)) is None
