"""A face's region cut from the original video frame at full resolution (for moderators).

Stored crops are small (CROP_MAX_SIDE); a moderator enlarging one wants the pixels the video
really has. Plain OpenCV, no Django.
"""

from __future__ import annotations

from pathlib import Path

import cv2

JPEG_QUALITY = 92
MAX_SIDE = 1600  # a face region larger than this (a 4K close-up) is scaled down to it


def face_region_jpeg(
    path: str | Path, *, frame_index: int, box: tuple[int, int, int, int], margin: float = 0.3
) -> bytes | None:
    """JPEG of the box (x, y, w, h, in the video's displayed pixels) grown by `margin` of its
    larger side on each side, from frame `frame_index`; None when the frame cannot be read."""
    cap = cv2.VideoCapture(str(path))
    if not cap.isOpened():
        return None
    try:
        # Upright as the analysis saw it (rotation metadata applied), then the exact frame.
        cap.set(cv2.CAP_PROP_ORIENTATION_AUTO, 1)
        cap.set(cv2.CAP_PROP_POS_FRAMES, frame_index)
        ok, frame = cap.read()
    finally:
        cap.release()
    if not ok or frame is None:
        return None
    x, y, w, h = box
    pad = round(margin * max(w, h))
    height, width = frame.shape[:2]
    x0, y0 = max(0, x - pad), max(0, y - pad)
    x1, y1 = min(width, x + w + pad), min(height, y + h + pad)
    if x1 <= x0 or y1 <= y0:
        return None
    region = frame[y0:y1, x0:x1]
    side = max(region.shape[:2])
    if side > MAX_SIDE:
        scale = MAX_SIDE / side
        region = cv2.resize(
            region,
            (round(region.shape[1] * scale), round(region.shape[0] * scale)),
            interpolation=cv2.INTER_AREA,
        )
    ok, buf = cv2.imencode(".jpg", region, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    return buf.tobytes() if ok else None
