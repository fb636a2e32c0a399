"""Classify stage: score face crops with a Keras CNN, batched per video.

TensorFlow is imported lazily: importing it costs ~2 s and ~600 MB, which commands that never
classify (or tests of other stages) should not pay.
"""
from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np

from .errors import ModelLoadError
from .spec import ModelSpec

BATCH_SIZE = 64


def preprocess(crops: list[np.ndarray], input_size: int, channels: int) -> np.ndarray:
    """BGR crops -> float32 batch (N, S, S, C) in 0..255; the model rescales inside itself."""
    out = np.empty((len(crops), input_size, input_size, channels), dtype=np.float32)
    for i, crop in enumerate(crops):
        interp = cv2.INTER_AREA if crop.shape[0] > input_size else cv2.INTER_LINEAR
        resized = cv2.resize(crop, (input_size, input_size), interpolation=interp)
        if channels == 1:
            out[i, :, :, 0] = cv2.cvtColor(resized, cv2.COLOR_BGR2GRAY)
        else:
            out[i] = cv2.cvtColor(resized, cv2.COLOR_BGR2RGB)
    return out


class KerasFaceClassifier:
    """Loads a `.keras` file once; `score()` returns the raw fake score (0..1) per crop."""

    def __init__(self, spec: ModelSpec, weights_path: str | Path):
        self.spec = spec
        path = Path(weights_path)
        if not path.is_file():
            raise ModelLoadError(f"Model weights not found: {path}")
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep C++ start-up chatter quiet
        try:
            import keras
            import tensorflow as tf
        except ImportError as exc:  # pragma: no cover - broken install
            raise ModelLoadError(f"TensorFlow is not installed: {exc}") from exc
        try:
            self.model = keras.models.load_model(path, compile=False)
        except Exception as exc:
            raise ModelLoadError(f"Cannot load model weights {path.name}: {exc}") from exc
        # A traced call is ~10x faster than model.predict() for the small batches we send.
        self._call = tf.function(lambda x: self.model(x, training=False), reduce_retracing=True)

    def score(self, crops: list[np.ndarray]) -> np.ndarray:
        if not crops:
            return np.zeros((0,), dtype=np.float32)
        batch = preprocess(crops, self.spec.input_size, self.spec.channels)
        scores = []
        for start in range(0, len(batch), BATCH_SIZE):
            scores.append(np.asarray(self._call(batch[start:start + BATCH_SIZE])).reshape(-1))
        return np.concatenate(scores).astype(np.float32)
