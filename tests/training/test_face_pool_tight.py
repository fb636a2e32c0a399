"""Face datasets cut tight to the face: the detector finds them in a wider canvas, and a face
whose crop would be mostly made-up border is left out of training rather than taught."""

import cv2
import pytest

from detection.training.data.labelled import detect_padded, face_pool
from tests import media

pytestmark = pytest.mark.slow


def _tight_face():
    from detection.pipeline.blazeface import BlazeFaceDetector

    image = media.face_image()
    face = BlazeFaceDetector().detect_with_keypoints(image, tiles=False)[0]
    b = face.box
    return image[b.y : b.y + b.h, b.x : b.x + b.w].copy()


def test_a_face_filling_the_picture_is_found_in_a_wider_canvas():
    from detection.pipeline.blazeface import BlazeFaceDetector

    tight = _tight_face()
    found = detect_padded(BlazeFaceDetector(), tight)
    assert found, "the padded second look finds the face"
    eyes = found[0].keypoints[:2]
    # Coordinates are the tight picture's own, not the canvas's.
    assert (eyes >= 0).all() and (eyes[:, 0] < tight.shape[1]).all()
    assert (eyes[:, 1] < tight.shape[0]).all()


def test_crops_mostly_outside_the_picture_are_left_out(tmp_path):
    folder = tmp_path / "pool"
    folder.mkdir()
    cv2.imwrite(str(folder / "tight.png"), _tight_face())
    cv2.imwrite(str(folder / "scene.png"), media.face_image())
    kept = face_pool([folder], size=64, margin=0.3, label=0, progress=False)
    assert len(kept.labels) == 1  # the face in its scene
    both = face_pool([folder], size=64, margin=0.3, label=0, progress=False, min_inside=0.0)
    assert len(both.labels) == 2
    # Files are read in name order: scene.png, then tight.png. The tight face's keypoints are
    # moved into its crop like any other face's.
    eyes = both.keypoints[1][:2]
    assert (eyes > 0).all() and (eyes < 64).all() and abs(eyes[0, 1] - eyes[1, 1]) < 2
