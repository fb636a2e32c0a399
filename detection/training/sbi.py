"""Self-blended images (Shiohara & Yamasaki, CVPR 2022): training fakes made from real faces.

A face is blended into a slightly altered copy of itself (colour, sharpness, a small shift and
scale) through a soft face-shaped mask. The result has no identity change, only the traces that
every face swap or re-enactment leaves: a blending boundary, colour and resolution mismatches,
a slightly misplaced face. A detector that learns those traces generalises across manipulation
methods it never saw, instead of learning one dataset's generator artefacts.
"""
from __future__ import annotations

import cv2
import numpy as np

from .face_mesh import INNER, JAW, NOSE_PART, OVAL


def _jitter_colour(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    out = image.astype(np.float32)
    if rng.random() < 0.7:  # per-channel shift: skin-tone mismatch of a pasted face
        out += rng.uniform(-20, 20, size=3)
    if rng.random() < 0.7:  # brightness / contrast
        out = (out - 128.0) * rng.uniform(0.8, 1.2) + 128.0 + rng.uniform(-15, 15)
    if rng.random() < 0.3:  # hue / saturation
        hsv = cv2.cvtColor(np.clip(out, 0, 255).astype(np.uint8), cv2.COLOR_BGR2HSV).astype(
            np.float32)
        hsv[..., 0] = (hsv[..., 0] + rng.uniform(-6, 6)) % 180
        hsv[..., 1] *= rng.uniform(0.8, 1.2)
        out = cv2.cvtColor(np.clip(hsv, 0, 255).astype(np.uint8), cv2.COLOR_HSV2BGR).astype(
            np.float32)
    return np.clip(out, 0, 255).astype(np.uint8)


def _jitter_sharpness(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    r = rng.random()
    if r < 0.35:  # generated faces are often smoother than the frame around them
        return cv2.GaussianBlur(image, (0, 0), rng.uniform(0.5, 1.5))
    if r < 0.6:
        blurred = cv2.GaussianBlur(image, (0, 0), 1.0)
        return cv2.addWeighted(image, 1.5, blurred, -0.5, 0)
    if r < 0.8:  # a face rendered at a lower resolution and scaled up
        h, w = image.shape[:2]
        f = rng.uniform(0.35, 0.7)
        small = cv2.resize(image, (max(8, int(w * f)), max(8, int(h * f))),
                           interpolation=cv2.INTER_AREA)
        return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
    return image


def _shift_scale(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    h, w = image.shape[:2]
    scale = rng.uniform(0.95, 1.05)
    tx, ty = rng.uniform(-0.03, 0.03) * w, rng.uniform(-0.03, 0.03) * h
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), 0.0, scale)
    matrix[:, 2] += (tx, ty)
    return cv2.warpAffine(image, matrix, (w, h), borderMode=cv2.BORDER_REFLECT)


REGIONS = ("face", "lower", "inner")


def _region_points(keypoints: np.ndarray, region: str, rng: np.random.Generator) -> np.ndarray:
    """Hull points of a manipulated region: the whole face (a face swap), the mouth and jaw
    (lip-sync and expression re-enactment), or the inner face from eyes to mouth."""
    eyes = (keypoints[0] + keypoints[1]) / 2
    mouth, nose = keypoints[3], keypoints[2]
    down = mouth - eyes
    across = (keypoints[1] - keypoints[0]) * 0.5  # half the eye distance, towards the left eye
    chin = mouth + down * rng.uniform(0.5, 0.9)
    if region == "lower":
        w = rng.uniform(1.1, 1.6)
        return np.vstack([nose - across * w, nose + across * w, mouth - across * w * 1.1,
                          mouth + across * w * 1.1, chin - across * 0.6, chin + across * 0.6,
                          chin])
    if region == "inner":
        brow = eyes - down * rng.uniform(0.2, 0.4)
        w = rng.uniform(1.3, 1.7)
        return np.vstack([keypoints[0] - across * 0.6, keypoints[1] + across * 0.6,
                          brow - across * w * 0.8, brow + across * w * 0.8,
                          mouth - across * w, mouth + across * w,
                          mouth + down * rng.uniform(0.2, 0.5)])
    brow = eyes - down * rng.uniform(0.3, 0.7)
    return np.vstack([keypoints, chin, brow, keypoints[4] + down * 0.6,
                      keypoints[5] + down * 0.6])


def _mesh_region_points(outline: np.ndarray, region: str,
                        rng: np.random.Generator) -> np.ndarray:
    """Hull points of a manipulated region from the face mesh's outline (`face_mesh`): the
    face's oval, or half the time only brow to chin (what a face swap usually replaces); the
    jaw and nose (the lower face); or brows, eye corners, cheeks and mouth (the inner face)."""
    if region == "lower":
        return np.vstack([outline[OVAL][list(JAW)], outline[NOSE_PART]])
    if region == "inner":
        return outline[INNER]
    if rng.random() < 0.5:
        return outline[OVAL]
    return np.vstack([outline[OVAL][list(JAW)], outline[INNER][:10]])  # brows to chin


def face_mask(shape: tuple[int, int], keypoints: np.ndarray | None,
              rng: np.random.Generator, region: str = "face", mesh: bool = False) -> np.ndarray:
    """A soft face-shaped mask in 0..1.

    With the six BlazeFace keypoints (eyes, nose, mouth, ear tragions) the hull covers the face
    from brow to chin and ear to ear, like a swapped face region (or only the `region` named,
    see `_region_points`); without them, an ellipse around the crop's centre. With `mesh` and
    the face mesh's outline after those six rows (`face_mesh.OUTLINE_POINTS`, as training
    pools store it), the hull follows the face's real outline instead (`_mesh_region_points`).
    """
    h, w = shape
    mask = np.zeros((h, w), np.float32)
    outline = keypoints[6:] if keypoints is not None and len(keypoints) > 6 else None
    if mesh and outline is not None and np.isfinite(outline).all():
        points = _mesh_region_points(outline, region, rng)
        centre = points.mean(axis=0)
        points = centre + (points - centre) * rng.uniform(0.9, 1.05)
        cv2.fillConvexPoly(mask, cv2.convexHull(points.astype(np.int32)), 1.0)
    elif keypoints is not None and len(keypoints) >= 6 and np.isfinite(keypoints[:6]).all():
        points = _region_points(keypoints[:6], region, rng)
        centre = points.mean(axis=0)
        points = centre + (points - centre) * rng.uniform(0.8, 1.05)
        cv2.fillConvexPoly(mask, cv2.convexHull(points.astype(np.int32)), 1.0)
    if mask.sum() < (0.05 if region == "face" else 0.01) * h * w:
        axes = (int(w * rng.uniform(0.25, 0.35)), int(h * rng.uniform(0.3, 0.42)))
        cv2.ellipse(mask, (w // 2, int(h * 0.52)), axes, 0, 0, 360, 1.0, -1)
    # Deform the boundary (erode or dilate), then soften it: blending leaves a gradual seam.
    k = max(3, int(min(h, w) * rng.uniform(0.02, 0.08))) | 1
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))
    mask = cv2.erode(mask, kernel) if rng.random() < 0.5 else cv2.dilate(mask, kernel)
    sigma = min(h, w) * rng.uniform(0.01, 0.06)
    mask = cv2.GaussianBlur(mask, (0, 0), sigma)
    return mask * rng.choice([0.5, 0.75, 1.0, 1.0, 1.0])


def self_blend(image: np.ndarray, keypoints: np.ndarray | None,
               rng: np.random.Generator, mesh: bool = False) -> np.ndarray:
    """A fake made from this real face and an altered copy of itself; `mesh`: its mask follows
    the face mesh's outline where `keypoints` carries one (see `face_mask`)."""
    source = _shift_scale(_jitter_sharpness(_jitter_colour(image, rng), rng), rng)
    region = REGIONS[rng.choice(3, p=[0.6, 0.25, 0.15])]
    mask = face_mask(image.shape[:2], keypoints, rng, region, mesh=mesh)[..., None]
    blended = source.astype(np.float32) * mask + image.astype(np.float32) * (1.0 - mask)
    return np.clip(blended, 0, 255).astype(np.uint8)


def degrade(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """What uploads do to every face, real or fake: resizing, blur and (H.264-like) compression.

    Applied to both classes alike so the model cannot use compression itself as the cue.
    """
    h, w = image.shape[:2]
    if rng.random() < 0.25:
        # A small face in a heavily compressed stream (c40-like): shrunk, coded coarsely at that
        # size, then scaled back up to the model's input by the face cutter.
        f = rng.uniform(0.35, 0.8)
        small = cv2.resize(image, (max(8, int(w * f)), max(8, int(h * f))),
                           interpolation=cv2.INTER_AREA)
        ok, buf = cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, int(rng.uniform(20, 60))])
        if ok:
            small = cv2.imdecode(buf, cv2.IMREAD_COLOR)
        image = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
    else:
        if rng.random() < 0.3:
            f = rng.uniform(0.4, 0.9)
            small = cv2.resize(image, (max(8, int(w * f)), max(8, int(h * f))),
                               interpolation=cv2.INTER_AREA)
            image = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
        if rng.random() < 0.15:
            image = cv2.GaussianBlur(image, (0, 0), rng.uniform(0.3, 1.0))
        if rng.random() < 0.8:
            quality = int(rng.uniform(25, 95))
            ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
            if ok:
                image = cv2.imdecode(buf, cv2.IMREAD_COLOR)
    if rng.random() < 0.5:
        image = image[:, ::-1]
    return np.ascontiguousarray(image)
