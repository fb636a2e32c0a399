"""Load labelled face crops from a folder tree with `real/` and `fake/` somewhere in each path."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from detection.pipeline.classify import preprocess

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp"}
VIDEO_SUFFIXES = {".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v"}


def label_from_path(path: Path, root: Path) -> int | None:
    """1 for fake, 0 for real, None when the path names neither (the innermost name wins)."""
    for part in reversed(path.relative_to(root).parts[:-1]):
        name = part.lower()
        if name == "fake":
            return 1
        if name == "real":
            return 0
    return None


def group_from_path(path: Path, root: Path) -> str:
    """The subfolder below real/ or fake/ (manipulation method, source), for breakdowns."""
    parts = path.relative_to(root).parts[:-1]
    return "/".join(parts) if parts else "."


def labelled_files(root: str | Path, suffixes: set[str]) -> list[tuple[Path, int, str]]:
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"No such folder: {root}")
    found = []
    for path in sorted(root.rglob("*")):
        if path.suffix.lower() in suffixes and path.is_file():
            label = label_from_path(path, root)
            if label is not None:
                found.append((path, label, group_from_path(path, root)))
    return found


@dataclass
class FaceSet:
    images: np.ndarray  # float32 (N, S, S, C), 0..255
    labels: np.ndarray  # int (N,)
    groups: list[str]
    paths: list[Path]


def load_faces(root: str | Path, input_size: int, channels: int, limit: int | None = None,
               progress: bool = True) -> FaceSet:
    files = labelled_files(root, IMAGE_SUFFIXES)
    if limit:
        rng = np.random.default_rng(0)
        files = [files[i] for i in sorted(rng.permutation(len(files))[:limit])]
    images, labels, groups, paths = [], [], [], []
    for path, label, group in tqdm(files, desc=f"loading {Path(root).name}", disable=not progress,
                                   unit="img"):
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if image is None:
            continue  # unreadable file: skip rather than abort a long load
        images.append(preprocess([image], input_size, channels)[0])
        labels.append(label)
        groups.append(group)
        paths.append(path)
    if not images:
        raise ValueError(f"No labelled images (real/ or fake/) under {root}")
    return FaceSet(np.stack(images), np.asarray(labels, dtype=np.int32), groups, paths)
