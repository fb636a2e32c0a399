"""Build small test videos at run time from a public-domain photo (no files from ../shared)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

FIXTURES = Path(__file__).parent / "fixtures"
FACE_IMAGE = FIXTURES / "astronaut.jpg"


def face_image() -> np.ndarray:
    image = cv2.imread(str(FACE_IMAGE))
    assert image is not None, f"missing fixture {FACE_IMAGE}"
    return image


def cut_face(size: int = 128):
    """The test face cut as the pipeline and training cut faces (BlazeFace, margin 0.3, eyes
    level), at `size` px, with BlazeFace's detection on that crop."""
    from detection.pipeline.blazeface import BlazeFaceDetector
    from detection.pipeline.faces import crop_face_aligned

    image = face_image()
    detector = BlazeFaceDetector()
    (found,) = detector.detect_with_keypoints(image)
    cut = crop_face_aligned(image, found.box, found.keypoints[0], found.keypoints[1], 0.3)
    crop = cv2.resize(cut, (size, size), interpolation=cv2.INTER_AREA)
    (again,) = detector.detect_with_keypoints(crop)
    return crop, again


def labelled_faces(root: Path, per_label: int = 8, seed: int = 0) -> Path:
    """`root/real/` and `root/fake/`, each `per_label` JPEGs of the test face at slightly
    different brightness and contrast: a labelled face folder as the training commands read."""
    rng = np.random.default_rng(seed)
    base = face_image()
    for label in ("real", "fake"):
        folder = root / label
        folder.mkdir(parents=True)
        for i in range(per_label):
            image = cv2.convertScaleAbs(
                base, alpha=rng.uniform(0.8, 1.2), beta=rng.uniform(-20, 20)
            )
            cv2.imwrite(str(folder / f"{i}.jpg"), image)
    return root


def write_video(
    path: Path, frames: list[np.ndarray], fps: float = 16.0, fourcc: str = "mp4v"
) -> Path:
    height, width = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), fps, (width, height))
    assert writer.isOpened(), f"OpenCV cannot write {fourcc} to {path}"
    for frame in frames:
        writer.write(frame)
    writer.release()
    return path


def face_clip(path: Path, n_frames: int = 40, fps: float = 16.0) -> Path:
    """A face that drifts slightly, so frames differ as in a real video."""
    base = face_image()
    frames = []
    for i in range(n_frames):
        shift = np.float32([[1, 0, 3 * np.sin(i / 5)], [0, 1, 2 * np.cos(i / 7)]])
        frames.append(
            cv2.warpAffine(
                base, shift, (base.shape[1], base.shape[0]), borderMode=cv2.BORDER_REPLICATE
            )
        )
    return write_video(path, frames, fps)


def no_face_clip(path: Path, n_frames: int = 24, fps: float = 12.0) -> Path:
    """Moving colour gradients: a valid video with nothing face-like in it."""
    y, x = np.mgrid[0:240, 0:320]
    frames = []
    for i in range(n_frames):
        frame = np.stack([(x + 4 * i) % 256, (y + 2 * i) % 256, np.full_like(x, 90)], axis=-1)
        frames.append(frame.astype(np.uint8))
    return write_video(path, frames, fps)


def not_a_video(path: Path) -> Path:
    path.write_bytes(b"%PDF-1.4\n" + bytes(range(256)) * 40)
    return path


def empty_file(path: Path) -> Path:
    path.write_bytes(b"")
    return path


def truncated_copy(source: Path, path: Path, keep: float = 0.4) -> Path:
    data = source.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    return path
