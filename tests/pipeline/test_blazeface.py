import cv2
import numpy as np
import pytest

from detection.pipeline.blazeface import BlazeFaceDetector
from detection.pipeline.faces import HaarFaceDetector, crop_face_aligned, make_detector
from detection.pipeline.types import FaceBox
from tests import media


@pytest.fixture(scope="module")
def detector():
    return BlazeFaceDetector()


def test_it_finds_the_face_and_its_eyes(detector):
    (found,) = detector.detect_with_keypoints(media.face_image())
    assert 80 < found.box.x + found.box.w / 2 < 170 and 30 < found.box.y + found.box.h / 2 < 110
    right_eye, left_eye = found.keypoints[0], found.keypoints[1]
    assert right_eye[0] < left_eye[0]  # the subject's right eye is on the image's left
    assert abs(right_eye[1] - left_eye[1]) < 10 and found.score > 0.7


def test_it_finds_a_small_face_in_a_large_frame(detector):
    # A 46 px face in a 1080p frame (4% of its height): invisible at 192 px, found in a tile.
    frame = np.full((1080, 1920, 3), 60, np.uint8)
    frame[700:940, 1500:1740] = cv2.resize(media.face_image(), (240, 240))
    (box,) = detector.detect(frame)
    assert 1540 <= box.x <= 1620 and 710 <= box.y <= 790 and 35 <= box.w <= 60
    assert detector.detect_with_keypoints(frame, tiles=False) == []


def test_it_finds_a_face_that_fills_the_frame(detector):
    # A selfie close-up: the face box of the fixture photo blown up to the whole 720 px frame.
    # The full-range model misses it in the frame itself and finds it in a wider canvas.
    (face,) = detector.detect_with_keypoints(media.face_image())
    b = face.box
    close_up = cv2.resize(media.face_image()[b.y : b.y + b.h, b.x : b.x + b.w], (720, 720))
    assert detector.detect_with_keypoints(close_up, tiles=False) == []
    (found,) = detector.detect_with_keypoints(close_up)
    centre = (found.box.x + found.box.w / 2, found.box.y + found.box.h / 2)
    assert 260 < centre[0] < 460 and 200 < centre[1] < 520 and found.box.w > 600
    right_eye, left_eye = found.keypoints[0], found.keypoints[1]
    assert 0 < right_eye[0] < left_eye[0] < 720 and 0 < right_eye[1] < 400


def test_it_finds_a_turned_face(detector):
    rotated = cv2.warpAffine(
        media.face_image(), cv2.getRotationMatrix2D((160, 160), 30, 1.0), (320, 320)
    )
    assert len(detector.detect(rotated)) == 1


def test_it_finds_no_face_in_a_gradient(detector):
    y, x = np.mgrid[0:240, 0:320]
    frame = np.stack([x % 256, y % 256, np.full_like(x, 90)], axis=-1).astype(np.uint8)
    assert detector.detect(frame) == []


def test_an_aligned_crop_levels_the_eyes():
    image = np.zeros((200, 200, 3), np.uint8)
    right_eye, left_eye = (80.0, 90.0), (120.0, 110.0)  # head rolled by ~27 degrees
    cv2.circle(image, (80, 90), 4, (255, 255, 255), -1)
    cv2.circle(image, (120, 110), 4, (255, 255, 255), -1)
    crop = crop_face_aligned(image, FaceBox(60, 60, 80, 80), right_eye, left_eye, margin=0.2)
    assert crop.shape == (112, 112, 3)
    ys, xs = np.nonzero(crop[:, :, 0] > 128)
    left, right = ys[xs < 56], ys[xs >= 56]
    assert abs(left.mean() - right.mean()) < 2  # both eyes on one row now


def test_the_papers_haar_detector_stays_selectable():
    assert isinstance(make_detector("haar"), HaarFaceDetector)
    assert isinstance(make_detector("blazeface"), BlazeFaceDetector)
    with pytest.raises(ValueError, match="Unknown face detector"):
        make_detector("yolo")
