"""Shared pieces of the browser tests."""

import tempfile
from pathlib import Path

import cv2
import numpy as np


def webm_clip(seconds: float = 4.0, fps: int = 8) -> bytes:
    """A small VP8 clip Chromium can play, so seeking is real."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "clip.webm"
        writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"VP80"), fps, (160, 120))
        for i in range(int(seconds * fps)):
            writer.write(np.full((120, 160, 3), (i * 7) % 255, np.uint8))
        writer.release()
        return path.read_bytes()
