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

from detection.training.data.face_mesh import INNER, JAW, NOSE_PART, OVAL


def _jitter_colour(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    out = image.astype(np.float32)
    if rng.random() < 0.7:  # per-channel shift: skin-tone mismatch of a pasted face
        out += rng.uniform(-20, 20, size=3)
    if rng.random() < 0.7:  # brightness / contrast
        out = (out - 128.0) * rng.uniform(0.8, 1.2) + 128.0 + rng.uniform(-15, 15)
    if rng.random() < 0.3:  # hue / saturation
        hsv = cv2.cvtColor(np.clip(out, 0, 255).astype(np.uint8), cv2.COLOR_BGR2HSV).astype(
            np.float32
        )
        hsv[..., 0] = (hsv[..., 0] + rng.uniform(-6, 6)) % 180
        hsv[..., 1] *= rng.uniform(0.8, 1.2)
        out = cv2.cvtColor(np.clip(hsv, 0, 255).astype(np.uint8), cv2.COLOR_HSV2BGR).astype(
            np.float32
        )
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
        small = cv2.resize(
            image, (max(8, int(w * f)), max(8, int(h * f))), interpolation=cv2.INTER_AREA
        )
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
        return np.vstack(
            [
                nose - across * w,
                nose + across * w,
                mouth - across * w * 1.1,
                mouth + across * w * 1.1,
                chin - across * 0.6,
                chin + across * 0.6,
                chin,
            ]
        )
    if region == "inner":
        brow = eyes - down * rng.uniform(0.2, 0.4)
        w = rng.uniform(1.3, 1.7)
        return np.vstack(
            [
                keypoints[0] - across * 0.6,
                keypoints[1] + across * 0.6,
                brow - across * w * 0.8,
                brow + across * w * 0.8,
                mouth - across * w,
                mouth + across * w,
                mouth + down * rng.uniform(0.2, 0.5),
            ]
        )
    brow = eyes - down * rng.uniform(0.3, 0.7)
    return np.vstack([keypoints, chin, brow, keypoints[4] + down * 0.6, keypoints[5] + down * 0.6])


def _mesh_region_points(outline: np.ndarray, region: str, rng: np.random.Generator) -> np.ndarray:
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


def face_mask(
    shape: tuple[int, int],
    keypoints: np.ndarray | None,
    rng: np.random.Generator,
    region: str = "face",
    mesh: bool = False,
) -> np.ndarray:
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


def self_blend(
    image: np.ndarray, keypoints: np.ndarray | None, rng: np.random.Generator, mesh: bool = False
) -> np.ndarray:
    """A fake made from this real face and an altered copy of itself; `mesh`: its mask follows
    the face mesh's outline where `keypoints` carries one (see `face_mask`)."""
    source = _shift_scale(_jitter_sharpness(_jitter_colour(image, rng), rng), rng)
    region = REGIONS[rng.choice(3, p=[0.6, 0.25, 0.15])]
    mask = face_mask(image.shape[:2], keypoints, rng, region, mesh=mesh)[..., None]
    blended = source.astype(np.float32) * mask + image.astype(np.float32) * (1.0 - mask)
    return np.clip(blended, 0, 255).astype(np.uint8)


def h264_roundtrip(image: np.ndarray, crf: int) -> np.ndarray:
    """`image` coded as one H.264 intra frame at `crf` (libx264 through PyAV) and decoded:
    the deblocked, 4:2:0, transform-coded look of a video frame, which JPEG does not give
    (about 2.5 ms for a 160 px face on one core)."""
    import io

    import av

    h, w = image.shape[:2]
    even = np.ascontiguousarray(image[: h - h % 2, : w - w % 2])
    buf = io.BytesIO()
    with av.open(buf, "w", format="h264") as out:
        stream = out.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = even.shape[1], even.shape[0], "yuv420p"
        stream.options = {"crf": str(int(crf)), "preset": "veryfast", "tune": "zerolatency"}
        for packet in stream.encode(av.VideoFrame.from_ndarray(even, format="bgr24")):
            out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    buf.seek(0)
    with av.open(buf, "r", format="h264") as inp:
        decoded = next(inp.decode(video=0)).to_ndarray(format="bgr24")
    if decoded.shape != image.shape:  # an odd side: put back the row or column cut off
        decoded = cv2.resize(decoded, (w, h), interpolation=cv2.INTER_LINEAR)
    return decoded


def _compress(
    image: np.ndarray,
    rng: np.random.Generator,
    jpeg_quality: tuple[float, float],
    crf: tuple[float, float],
    h264_share: float,
) -> np.ndarray:
    """JPEG at a quality drawn from `jpeg_quality`, or with probability `h264_share` an H.264
    frame at a CRF drawn from `crf`. With `h264_share` 0 no extra draw is made, so the samples
    of runs without H.264 stay exactly what they were."""
    if h264_share > 0 and rng.random() < h264_share:
        return h264_roundtrip(image, int(rng.uniform(*crf)))
    quality = int(rng.uniform(*jpeg_quality))
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    return cv2.imdecode(buf, cv2.IMREAD_COLOR) if ok else image


def degrade(image: np.ndarray, rng: np.random.Generator, h264_share: float = 0.0) -> np.ndarray:
    """What uploads do to every face, real or fake: resizing, blur and compression (JPEG, and
    with `h264_share` > 0 that share of the compressions as H.264 video frames).

    Applied to both classes alike so the model cannot use compression itself as the cue.
    """
    h, w = image.shape[:2]
    if rng.random() < 0.25:
        # A small face in a heavily compressed stream (c40-like): shrunk, coded coarsely at that
        # size, then scaled back up to the model's input by the face cutter.
        f = rng.uniform(0.35, 0.8)
        small = cv2.resize(
            image, (max(8, int(w * f)), max(8, int(h * f))), interpolation=cv2.INTER_AREA
        )
        small = _compress(small, rng, (20, 60), (30, 42), h264_share)
        image = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
    else:
        if rng.random() < 0.3:
            f = rng.uniform(0.4, 0.9)
            small = cv2.resize(
                image, (max(8, int(w * f)), max(8, int(h * f))), interpolation=cv2.INTER_AREA
            )
            image = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
        if rng.random() < 0.15:
            image = cv2.GaussianBlur(image, (0, 0), rng.uniform(0.3, 1.0))
        if rng.random() < 0.8:
            image = _compress(image, rng, (25, 95), (18, 36), h264_share)
    if rng.random() < 0.5:
        image = image[:, ::-1]
    return np.ascontiguousarray(image)
