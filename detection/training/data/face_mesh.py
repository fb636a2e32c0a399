"""The outline of a training face from MediaPipe's face mesh: where self-blending's masks go.

BlazeFace's six keypoints (eyes, nose, mouth, ear tragions) only sketch a face, so masks made
from them are rough polygons; the published self-blended-image recipe draws its masks from
dense facial landmarks. The face mesh model (`detection/models/face_mesh/`, shipped, offline)
gives 468 landmarks on an aligned face crop; `outline` keeps the ones the masks need, in a fixed
order (`OUTLINE_POINTS`): the face oval, then the inner face (brows, eye corners, cheeks, mouth),
then the nose. Plain numpy, OpenCV and LiteRT; no TensorFlow, no Django.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

MODEL = Path(__file__).resolve().parents[2] / "models" / "face_mesh" / "face_landmark.tflite"
INPUT_SIZE = 192
MIN_FACE_SCORE = 0.5

# MediaPipe's canonical face mesh indices.
FACE_OVAL = (
    10,
    338,
    297,
    332,
    284,
    251,
    389,
    356,
    454,
    323,
    361,
    288,
    397,
    365,
    379,
    378,
    400,
    377,
    152,
    148,
    176,
    149,
    150,
    136,
    172,
    58,
    132,
    93,
    234,
    127,
    162,
    21,
    54,
    103,
    67,
    109,
)
# Brows, outer eye corners, cheeks below the eyes, mouth corners, below the lower lip.
INNER_FACE = (70, 63, 105, 66, 107, 336, 296, 334, 293, 300, 130, 359, 205, 425, 61, 291, 18)
NOSE = (129, 358, 1)  # the nostrils' outer edges and the tip
OUTLINE_POINTS = FACE_OVAL + INNER_FACE + NOSE

# Where each part sits in an outline array.
OVAL = slice(0, len(FACE_OVAL))
INNER = slice(OVAL.stop, OVAL.stop + len(INNER_FACE))
NOSE_PART = slice(INNER.stop, INNER.stop + len(NOSE))
# The oval from cheek to cheek under the nose (the jaw), for masks of the lower face.
JAW = tuple(
    FACE_OVAL.index(i)
    for i in (
        93,
        132,
        58,
        172,
        136,
        150,
        149,
        176,
        148,
        152,
        377,
        400,
        378,
        379,
        365,
        397,
        288,
        361,
        323,
    )
)


class FaceMesh:
    """The face mesh model, loaded once: `outline(crop)` per aligned face crop."""

    def __init__(self, model_path: Path = MODEL, threads: int = 1):
        from ai_edge_litert.interpreter import Interpreter

        self._interpreter = Interpreter(model_path=str(model_path), num_threads=threads)
        self._interpreter.allocate_tensors()
        self._input = self._interpreter.get_input_details()[0]["index"]
        outputs = sorted(self._interpreter.get_output_details(), key=lambda d: d["shape"][-1])
        self._score, self._landmarks = outputs[0]["index"], outputs[1]["index"]

    def landmarks(self, crop: np.ndarray) -> np.ndarray | None:
        """All 468 landmarks (x, y) in the crop's pixels, or None where the model sees no face.

        `crop` is a BGR face crop cut as the pipeline cuts faces (square, eyes level, the face's
        box plus a margin on each side), which is the framing the model expects."""
        height, width = crop.shape[:2]
        size = (INPUT_SIZE, INPUT_SIZE)
        interpolation = cv2.INTER_AREA if min(height, width) > INPUT_SIZE else cv2.INTER_LINEAR
        rgb = cv2.cvtColor(cv2.resize(crop, size, interpolation=interpolation), cv2.COLOR_BGR2RGB)
        self._interpreter.set_tensor(self._input, (rgb.astype(np.float32) / 255.0)[None])
        self._interpreter.invoke()
        score = 1.0 / (1.0 + np.exp(-float(self._interpreter.get_tensor(self._score).ravel()[-1])))
        if score < MIN_FACE_SCORE:
            return None
        points = self._interpreter.get_tensor(self._landmarks).reshape(-1, 3)[:, :2]
        return (points * np.array([width / INPUT_SIZE, height / INPUT_SIZE])).astype(np.float32)

    def outline(self, crop: np.ndarray) -> np.ndarray | None:
        """The `OUTLINE_POINTS` landmarks (len(OUTLINE_POINTS), 2) in the crop's pixels, or
        None."""
        points = self.landmarks(crop)
        return None if points is None else points[list(OUTLINE_POINTS)]
