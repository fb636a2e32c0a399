import numpy as np

from detection.pipeline.faces import HaarFaceDetector, crop_face
from detection.pipeline.types import FaceBox
from tests import media


def test_it_finds_the_face_in_a_portrait():
    boxes = HaarFaceDetector().detect(media.face_image())
    assert len(boxes) == 1
    face = boxes[0]
    # The astronaut's face sits in the upper middle of the 320x320 picture.
    assert 80 < face.x + face.w / 2 < 170 and 30 < face.y + face.h / 2 < 110


def test_it_finds_the_face_after_downscaling_a_large_frame():
    big = np.kron(media.face_image(), np.ones((4, 4, 1), dtype=np.uint8))  # 1280x1280
    boxes = HaarFaceDetector().detect(big)
    assert len(boxes) == 1 and boxes[0].w > 150  # reported in the original frame's pixels


def test_it_finds_no_face_in_a_gradient():
    y, x = np.mgrid[0:240, 0:320]
    frame = np.stack([x % 256, y % 256, np.full_like(x, 90)], axis=-1).astype(np.uint8)
    assert HaarFaceDetector().detect(frame) == []


def test_a_crop_is_square_with_the_margin_around_the_face():
    image = np.zeros((100, 200, 3), dtype=np.uint8)
    crop = crop_face(image, FaceBox(x=80, y=30, w=40, h=40), margin=0.25)
    assert crop.shape == (60, 60, 3)


def test_a_crop_at_the_frame_edge_keeps_the_face_centred():
    image = np.zeros((100, 100, 3), dtype=np.uint8)
    image[0:20, 0:20] = 255  # the face, in the corner
    crop = crop_face(image, FaceBox(x=0, y=0, w=20, h=20), margin=0.5)
    assert crop.shape == (40, 40, 3)
    assert crop[20, 20].tolist() == [255, 255, 255]  # centre of the crop is the face
