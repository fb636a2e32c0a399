"""Load labelled face crops from a folder tree with `real/` and `fake/` somewhere in each path."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from detection.pipeline.classify import preprocess

# Part of a face pool's cache key: change it whenever face_pool cuts or records faces differently
# (3: padded second look, the picture's central face, each face's file key).
POOL_FORMAT = 4  # 4: keypoints carry the face mesh outline after the six

# The pools of real faces the self-blended recipe blends, under a data root (../shared/data).
REAL_POOLS = ("faces/utkface_real", "faces/rmfd_real")

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp"}
VIDEO_SUFFIXES = {".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v"}


def real_pools_under(root: Path) -> list[Path]:
    """The real-face pools under a data root, as the training commands default to them."""
    return [Path(root) / pool for pool in REAL_POOLS]


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


def load_faces(
    root: str | Path,
    input_size: int,
    channels: int,
    limit: int | None = None,
    progress: bool = True,
) -> FaceSet:
    files = labelled_files(root, IMAGE_SUFFIXES)
    if limit:
        rng = np.random.default_rng(0)
        files = [files[i] for i in sorted(rng.permutation(len(files))[:limit])]
    images, labels, groups, paths = [], [], [], []
    for path, label, group in tqdm(
        files, desc=f"loading {Path(root).name}", disable=not progress, unit="img"
    ):
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


@dataclass
class FacePool:
    """Face crops cut exactly as the pipeline cuts them at run time (detector box, margin, eyes
    levelled), with the detector's six keypoints moved into crop coordinates, then the face
    mesh's outline on the crop (`face_mesh.OUTLINE_POINTS`; NaN where the mesh saw no face)."""

    images: np.ndarray  # uint8 (N, S, S, 3), BGR
    keypoints: np.ndarray  # float32 (N, 6 + len(OUTLINE_POINTS), 2)
    labels: np.ndarray  # int (N,)
    groups: list[str]
    keys: list[str] = field(default_factory=list)  # "<root>/<path in root>" of each face's file


def labelled_face(faces: list, width: int, height: int):
    """The face a labelled picture is about: the one nearest its centre.

    Face-crop datasets cut each labelled face with whatever surrounds it, often other people's
    faces, and a neighbour can be the largest face in the crop: in OpenForensics' validation set
    the largest face is another person in 97 of 1,971 pictures, and a real neighbour in a fake
    picture would carry the wrong label. Works on anything with a `.box` (detections, crops)."""
    return min(
        faces,
        key=lambda f: (
            (f.box.x + f.box.w / 2 - width / 2) ** 2 + (f.box.y + f.box.h / 2 - height / 2) ** 2
        ),
    )


def detect_padded(detector, image: np.ndarray):
    """Faces in `image`; if none, faces in the image set in a grey border half its size.

    Face datasets are often cut tight (UTKFace, RMFD), and a detector made for faces in a scene
    misses most faces that fill the picture; in a wider canvas it finds them, and the box is
    moved back into the image's own coordinates.
    """
    import dataclasses

    from detection.pipeline.blazeface import grey_border

    found = detector.detect_with_keypoints(image, tiles=False)
    if found:
        return found
    padded, pad = grey_border(image)
    moved = []
    for face in detector.detect_with_keypoints(padded, tiles=False):
        box = dataclasses.replace(face.box, x=face.box.x - pad, y=face.box.y - pad)
        moved.append(dataclasses.replace(face, box=box, keypoints=face.keypoints - pad))
    return moved


def face_pool(
    roots: list[str | Path],
    *,
    size: int,
    margin: float,
    label: int | None = None,
    limit_per_root: int | None = None,
    progress: bool = True,
    cache_dir: Path | None = None,
    min_inside: float = 0.8,
) -> FacePool:
    """Crops from every image under `roots`. `label` forces a label (pools of real faces whose
    folders are not named real/); otherwise it comes from the real/ or fake/ folder names.
    Faces whose crop lies less than `min_inside` within the picture are left out."""
    import hashlib

    from detection.pipeline.blazeface import BlazeFaceDetector
    from detection.pipeline.faces import aligned_crop_matrix

    key = hashlib.sha256(
        repr(
            (sorted(map(str, roots)), size, margin, label, limit_per_root, min_inside, POOL_FORMAT)
        ).encode()
    ).hexdigest()[:16]
    cache = cache_dir / f"pool_{key}.npz" if cache_dir else None
    if cache and cache.is_file():
        saved = np.load(cache, allow_pickle=False)
        return FacePool(
            saved["images"],
            saved["keypoints"],
            saved["labels"],
            list(saved["groups"]),
            list(saved["keys"]),
        )
    from detection.training.data.face_mesh import OUTLINE_POINTS, FaceMesh

    detector, mesh = BlazeFaceDetector(), FaceMesh()
    no_outline = np.full((len(OUTLINE_POINTS), 2), np.nan, np.float32)
    images, keypoints, labels, groups, keys = [], [], [], [], []
    for root in roots:
        root = Path(root)
        files = sorted(p for p in root.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
        if limit_per_root and len(files) > limit_per_root:
            rng = np.random.default_rng(0)
            files = [files[i] for i in sorted(rng.permutation(len(files))[:limit_per_root])]
        for path in tqdm(files, desc=f"faces in {root.name}", disable=not progress, unit="img"):
            y = label if label is not None else label_from_path(path, root)
            image = cv2.imread(str(path), cv2.IMREAD_COLOR)
            if y is None or image is None:
                continue
            found = detect_padded(detector, image)
            if not found:
                continue  # the pipeline would not score this image either
            face = labelled_face(found, image.shape[1], image.shape[0])
            matrix, side = aligned_crop_matrix(
                face.box, face.keypoints[0], face.keypoints[1], margin
            )
            inside = cv2.warpAffine(
                np.ones(image.shape[:2], np.uint8),
                matrix,
                (side, side),
                flags=cv2.INTER_NEAREST,
                borderValue=0,
            ).mean()
            if inside < min_inside:
                continue  # a face cut so tight that most of the crop would be made-up border
            # Mirrored border where the crop leaves the picture: replicated edge rows would
            # streak across a quarter of every tight-cut face and become a dataset signature.
            crop = cv2.warpAffine(
                image,
                matrix,
                (side, side),
                flags=cv2.INTER_LINEAR,
                borderMode=cv2.BORDER_REFLECT_101,
            )
            scale = size / side
            images.append(
                cv2.resize(
                    crop,
                    (size, size),
                    interpolation=cv2.INTER_AREA if side > size else cv2.INTER_LINEAR,
                )
            )
            points = np.hstack([face.keypoints, np.ones((len(face.keypoints), 1))]) @ matrix.T
            outline = mesh.outline(images[-1])
            keypoints.append(
                np.vstack([points * scale, no_outline if outline is None else outline]).astype(
                    np.float32
                )
            )
            labels.append(y)
            groups.append(f"{root.name}/{group_from_path(path, root)}")
            keys.append(f"{root.name}/{path.relative_to(root).as_posix()}")
    pool = FacePool(
        np.stack(images), np.stack(keypoints), np.asarray(labels, np.int32), groups, keys
    )
    if cache:
        cache.parent.mkdir(parents=True, exist_ok=True)
        np.savez(
            cache,
            images=pool.images,
            keypoints=pool.keypoints,
            labels=pool.labels,
            groups=np.asarray(pool.groups),
            keys=np.asarray(pool.keys),
        )
    return pool
