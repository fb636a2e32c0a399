"""Grad-CAM heatmaps of face crops, as a service for whoever shows evidence (moderation).

Detection owns the models, so it draws the heatmaps; the caller chooses the crops and keeps the
images.
"""

from __future__ import annotations

import cv2
import numpy as np

from detection.pipeline.explain import grad_cam, overlay
from detection.pipeline.spec import ModelSpec

from .model_cache import keras_model_for_spec

HEATMAP_JPEG_QUALITY = 88


def heatmap_overlays(*, spec: ModelSpec, crops: list[np.ndarray]) -> list[bytes | None]:
    """One JPEG per BGR crop: the crop with the version's Grad-CAM heatmap drawn over it.

    None where encoding failed. Raises ModelLoadError when the version has no Keras model
    (e.g. one shipped only as a converted file).
    """
    model = keras_model_for_spec(spec)
    heatmaps = grad_cam(model, crops, input_size=spec.input_size, channels=spec.channels)
    jpegs: list[bytes | None] = []
    for crop, heat in zip(crops, heatmaps):
        ok, buf = cv2.imencode(
            ".jpg", overlay(crop, heat), [cv2.IMWRITE_JPEG_QUALITY, HEATMAP_JPEG_QUALITY]
        )
        jpegs.append(buf.tobytes() if ok else None)
    return jpegs
