"""The detector's frame shrinking: halvings then one area resize give the pixels a single area
resize gives (within rounding), at any size and orientation."""

import cv2
import numpy as np
import pytest

from detection.pipeline.blazeface import shrink
from tests import media


@pytest.mark.parametrize(
    "size,target",
    [
        ((1920, 1080), (192, 108)),
        ((1280, 720), (192, 108)),
        ((3840, 2160), (192, 108)),
        ((1080, 1920), (108, 192)),
        ((640, 480), (192, 144)),
        ((1919, 1081), (192, 108)),
    ],
)
def test_shrinking_matches_one_area_resize(size, target):
    frame = cv2.resize(media.face_image(), size, interpolation=cv2.INTER_CUBIC)
    direct = cv2.resize(frame, target, interpolation=cv2.INTER_AREA).astype(int)
    shrunk = shrink(frame, *target)
    assert shrunk.shape == direct.shape
    diff = np.abs(shrunk.astype(int) - direct)
    assert diff.mean() < 1.0 and np.percentile(diff, 99) < 8
