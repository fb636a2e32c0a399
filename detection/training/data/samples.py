"""Training batches for the self-blended recipe: real faces, self-blended fakes and a dataset's
fakes, all degraded alike. Plain numpy and OpenCV (no TensorFlow, no Django), so worker processes
can make batches on any machine, whichever Keras backend trains on them."""

from __future__ import annotations

import numpy as np

from .sbi import degrade, self_blend


def resize_batch(images: np.ndarray, size: int) -> np.ndarray:
    import cv2

    if images.shape[1] == size:
        return images
    return np.stack([cv2.resize(im, (size, size), interpolation=cv2.INTER_AREA) for im in images])


def jitter_crop(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A slightly different cut of the same face: detectors place boxes a few pixels apart
    from frame to frame, and a model that sees only one framing learns the framing."""
    import cv2

    h, w = image.shape[:2]
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), rng.uniform(-4, 4), rng.uniform(0.94, 1.06))
    matrix[:, 2] += rng.uniform(-0.03, 0.03, 2) * (w, h)
    return cv2.warpAffine(
        image, matrix, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101
    )


MASK_SOURCES = ("keypoints", "mesh")


def make_samples(
    reals,
    real_kps,
    fakes,
    n: int,
    sbi_share: float,
    size: int,
    rng: np.random.Generator,
    mask_source: str = "keypoints",
    h264_share: float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """`n` shuffled samples, half real: (uint8 RGB (n, size, size, 3), float32 labels).

    `real_kps` rows: BlazeFace's six keypoints, then (pools of `POOL_FORMAT` 4 on) the face
    mesh's outline; `mask_source` "mesh" shapes the self-blending masks by that outline where
    a face has one, "keypoints" by the six keypoints alone. `h264_share`: the share of the
    compressions (every class alike) made as H.264 video frames instead of JPEG (`degrade`)."""
    if mask_source not in MASK_SOURCES:
        raise ValueError(f"mask_source must be one of {MASK_SOURCES}, not {mask_source!r}")
    half = n // 2
    real_idx = rng.choice(len(reals), half, replace=len(reals) < half)
    n_sbi = int(round(half * sbi_share)) if len(fakes) else half
    sbi_idx = rng.choice(len(reals), n_sbi, replace=len(reals) < n_sbi)
    fake_idx = (
        rng.choice(len(fakes), half - n_sbi, replace=len(fakes) < half - n_sbi)
        if half - n_sbi
        else np.array([], int)
    )
    images = [degrade(jitter_crop(reals[i], rng), rng, h264_share) for i in real_idx]
    for i in sbi_idx:
        kps = real_kps[i] if np.isfinite(real_kps[i][:6]).all() else None
        # Jitter after blending, so the blended region is not always in the same place.
        images.append(
            degrade(
                jitter_crop(self_blend(reals[i], kps, rng, mesh=mask_source == "mesh"), rng),
                rng,
                h264_share,
            )
        )
    images += [degrade(jitter_crop(fakes[i], rng), rng, h264_share) for i in fake_idx]
    x = np.ascontiguousarray(resize_batch(np.stack(images), size)[..., ::-1])
    y = np.concatenate([np.zeros(half), np.ones(len(images) - half)]).astype(np.float32)
    order = rng.permutation(len(y))
    return x[order], y[order]
