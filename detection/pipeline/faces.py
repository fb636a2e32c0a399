"""Face stage: find faces in sampled frames and cut square crops around them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

import cv2
import numpy as np

from .types import AnalysisConfig, FaceBox, FaceCrop, SampledFrame


class FaceDetector(Protocol):
    name: str

    def detect(self, image: np.ndarray) -> list[FaceBox]: ...


class HaarFaceDetector:
    """Viola-Jones frontal-face cascade, as the original paper uses (ships inside OpenCV 4.x)."""

    name = "haar"

    # Measured on 136 FF++ frames: (1.15, 6) finds a face in 133 with 43 ms/frame and fewer
    # false positives; (1.1, 5) finds 136 at 83 ms/frame with a third more false positives.
    def __init__(
        self,
        config: AnalysisConfig = AnalysisConfig(),
        scale_factor: float = 1.15,
        min_neighbors: int = 6,
    ):
        cascade_path = cv2.data.haarcascades + "haarcascade_frontalface_default.xml"
        self._cascade = cv2.CascadeClassifier(cascade_path)
        if self._cascade.empty():  # pragma: no cover - only with a broken OpenCV install
            raise RuntimeError(f"Cannot load the Haar cascade from {cascade_path}")
        self._config = config
        self._scale_factor = scale_factor
        self._min_neighbors = min_neighbors

    def detect(self, image: np.ndarray) -> list[FaceBox]:
        height, width = image.shape[:2]
        scale = min(1.0, self._config.detect_max_side / max(height, width))
        small = (
            image
            if scale == 1.0
            else cv2.resize(
                image,
                (max(1, round(width * scale)), max(1, round(height * scale))),
                interpolation=cv2.INTER_AREA,
            )
        )
        gray = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY) if small.ndim == 3 else small
        gray = cv2.equalizeHist(gray)
        min_side = max(20, int(min(gray.shape[:2]) * self._config.min_face_fraction))
        found = self._cascade.detectMultiScale(
            gray,
            scaleFactor=self._scale_factor,
            minNeighbors=self._min_neighbors,
            minSize=(min_side, min_side),
        )
        boxes = [
            FaceBox(x=round(x / scale), y=round(y / scale), w=round(w / scale), h=round(h / scale))
            for (x, y, w, h) in (found if len(found) else [])
        ]
        boxes.sort(key=lambda b: b.area, reverse=True)
        return boxes[: self._config.max_faces_per_frame]


def crop_face(image: np.ndarray, box: FaceBox, margin: float) -> np.ndarray:
    """A square crop centred on the face, grown by `margin` of the face size on every side.

    Parts of the square outside the frame are filled by replicating the border, so crops of
    faces at the edge keep the face centred, as in training.
    """
    side = int(round(max(box.w, box.h) * (1.0 + 2.0 * margin)))
    cx, cy = box.x + box.w / 2.0, box.y + box.h / 2.0
    x0, y0 = int(round(cx - side / 2.0)), int(round(cy - side / 2.0))
    height, width = image.shape[:2]
    pad_left, pad_top = max(0, -x0), max(0, -y0)
    pad_right, pad_bottom = max(0, x0 + side - width), max(0, y0 + side - height)
    crop = image[max(0, y0) : min(height, y0 + side), max(0, x0) : min(width, x0 + side)]
    if pad_left or pad_top or pad_right or pad_bottom:
        crop = cv2.copyMakeBorder(
            crop, pad_top, pad_bottom, pad_left, pad_right, cv2.BORDER_REPLICATE
        )
    return np.ascontiguousarray(crop)


MAX_TILED_MISSES = 4
MAX_ROLL_DEGREES = 45.0  # beyond this the eye keypoints are more likely wrong than the head


def crop_face_aligned(
    image: np.ndarray, box: FaceBox, right_eye, left_eye, margin: float
) -> np.ndarray:
    """Like `crop_face`, but rotated so the eyes are level: every crop the model sees has the
    same geometry, whatever the head's roll."""
    matrix, side = aligned_crop_matrix(box, right_eye, left_eye, margin)
    return cv2.warpAffine(
        image, matrix, (side, side), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )


def aligned_crop_matrix(box: FaceBox, right_eye, left_eye, margin: float):
    """The affine map from frame to aligned crop (training uses it to move keypoints too)."""
    angle = float(np.degrees(np.arctan2(left_eye[1] - right_eye[1], left_eye[0] - right_eye[0])))
    if abs(angle) > MAX_ROLL_DEGREES:
        angle = 0.0
    side = int(round(max(box.w, box.h) * (1.0 + 2.0 * margin)))
    cx, cy = box.x + box.w / 2.0, box.y + box.h / 2.0
    matrix = cv2.getRotationMatrix2D((cx, cy), angle, 1.0)
    matrix[0, 2] += side / 2.0 - cx
    matrix[1, 2] += side / 2.0 - cy
    return matrix, side


MAX_FACES_LOOKED_AROUND = 2  # with more faces, one full look costs less than looks around each


class FaceFinder:
    """Finds and cuts the faces of one video's frames, in order: it remembers how many frames
    in a row had no face, so the second looks (close-up, tiles) stop once a video shows none,
    and where the faces were, so it can look for them there again.

    With `full_look_every` N > 1 and a detector that can `look_around` (BlazeFace), a frame
    after one with one or two faces is first searched only around them, with the short-range
    model: a third of the cost of a full look at the frame. A full look still comes at least
    every N frames (new people are found by it), and whenever a face is not found again where
    it was. N = 1: every frame gets a full look."""

    def __init__(self, margin: float, full_look_every: int = 1):
        self.margin = margin
        self.full_look_every = max(1, int(full_look_every))
        self.tiled_misses = 0
        self.previous: list = []  # the last frame's detections
        self.since_full_look = 0
        self.looks = {"full": 0, "around": 0}

    def faces(self, frame: SampledFrame, detector: FaceDetector) -> list[FaceCrop]:
        crops: list[FaceCrop] = []
        with_keypoints = getattr(detector, "detect_with_keypoints", None)
        if with_keypoints is None:
            for box in detector.detect(frame.image):
                crops.append(
                    FaceCrop(
                        frame_index=frame.index,
                        timestamp_s=frame.timestamp_s,
                        box=box,
                        image=crop_face(frame.image, box, self.margin),
                    )
                )
            return crops
        found = self._looked_around(frame.image, detector)
        if found is None:
            # The second looks cost ~9 passes; after a few frames where they found nothing,
            # the video has no close-up or small faces worth that cost.
            found = self._full_look(with_keypoints(frame.image, tiles=self._tiles()))
        return self._cut(frame, found)

    def faces_of(self, frames: list[SampledFrame], detector: FaceDetector) -> list[list[FaceCrop]]:
        """`faces` for several frames in order, the same faces. Without looks around faces,
        the first look at every frame is made in batches where the detector can (BlazeFace)."""
        whole_frames = getattr(detector, "detect_whole_frames", None)
        if (
            whole_frames is None
            or len(frames) < 2
            or (self.full_look_every > 1 and hasattr(detector, "look_around"))
        ):
            return [self.faces(frame, detector) for frame in frames]
        first_looks = whole_frames([frame.image for frame in frames])
        return [
            self._cut(
                frame, self._full_look(detector.complete(frame.image, found, tiles=self._tiles()))
            )
            for frame, found in zip(frames, first_looks)
        ]

    def _looked_around(self, image: np.ndarray, detector: FaceDetector) -> list | None:
        """The last frame's faces found again around where they were, or None when this
        frame needs a full look."""
        look_around = getattr(detector, "look_around", None)
        if (
            look_around is None
            or self.since_full_look + 1 >= self.full_look_every
            or not 0 < len(self.previous) <= MAX_FACES_LOOKED_AROUND
        ):
            return None
        found = look_around(image, [d.box for d in self.previous])
        if any(d is None for d in found):
            return None
        kept = detector.keep(image, found)
        if len(kept) != len(found):  # a face shrank below the size kept: look at the whole
            return None
        self.since_full_look += 1
        self.looks["around"] += 1
        self.previous = kept
        return kept

    def _full_look(self, found: list) -> list:
        self.since_full_look = 0
        self.looks["full"] += 1
        self.previous = found
        return found

    def _tiles(self) -> bool:
        return self.tiled_misses < MAX_TILED_MISSES

    def _cut(self, frame: SampledFrame, detections: list) -> list[FaceCrop]:
        self.tiled_misses = 0 if detections else self.tiled_misses + 1
        crops: list[FaceCrop] = []
        for found in detections:
            right_eye, left_eye = found.keypoints[0], found.keypoints[1]
            image = crop_face_aligned(frame.image, found.box, right_eye, left_eye, self.margin)
            crops.append(
                FaceCrop(
                    frame_index=frame.index,
                    timestamp_s=frame.timestamp_s,
                    box=found.box,
                    image=image,
                )
            )
        return crops


def find_faces(
    frames: Iterable[SampledFrame], detector: FaceDetector, margin: float, full_look_every: int = 1
) -> list[FaceCrop]:
    """The faces of all `frames`, frame by frame (see `FaceFinder`)."""
    return [
        crop
        for crops in FaceFinder(margin, full_look_every).faces_of(list(frames), detector)
        for crop in crops
    ]


DETECTORS = ("blazeface", "haar")


def make_detector(name: str, config: AnalysisConfig = AnalysisConfig()) -> FaceDetector:
    """BlazeFace by default; Haar (Viola-Jones, as in the original paper) stays selectable."""
    if name == "haar":
        return HaarFaceDetector(config)
    if name == "blazeface":
        from .blazeface import BlazeFaceDetector

        return BlazeFaceDetector(config)
    raise ValueError(f"Unknown face detector {name!r}; choose one of {', '.join(DETECTORS)}")
