"""Classify stage: score face crops with the model, batched per video.

Two interchangeable classifiers with the same `score(crops)`: the Keras model as trained, and
its LiteRT (TFLite) conversion, which serves the same float32 maths without TensorFlow
(less memory, faster start, faster small batches). `make_classifier` prefers the LiteRT file
when one exists beside the weights.

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

    def score_batch(self, batch: np.ndarray) -> np.ndarray:
        """Raw scores for an already preprocessed float32 batch (N, S, S, C)."""
        return np.concatenate([
            np.asarray(self._call(batch[i:i + 256])).reshape(-1)
            for i in range(0, len(batch), 256)
        ]).astype(np.float32) if len(batch) else np.zeros((0,), np.float32)


def _cpu_threads() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


class LiteRTFaceClassifier:
    """Runs a `.tflite` conversion of the model with the LiteRT interpreter (no TensorFlow).

    Crops go through in batches of `max_batch`: on 2 threads, batches of 8 score about 1,165
    Lite0 crops/s against about 1,000 for one call over a video's 32 crops (three runs of
    bench/pipeline_speed.py, which prints both); small batches also keep the tensor small when
    a video has hundreds of faces.
    """

    def __init__(self, spec: ModelSpec, model_path: str | Path, *, num_threads: int | None = None,
                 max_batch: int = 8):
        self.spec = spec
        path = Path(model_path)
        if not path.is_file():
            raise ModelLoadError(f"Model file not found: {path}")
        try:
            from ai_edge_litert.interpreter import Interpreter
        except ImportError as exc:  # pragma: no cover - broken install
            raise ModelLoadError(f"LiteRT is not installed: {exc}") from exc
        try:
            self.interpreter = Interpreter(model_path=str(path),
                                           num_threads=num_threads or _cpu_threads())
        except Exception as exc:
            raise ModelLoadError(f"Cannot load model file {path.name}: {exc}") from exc
        self.path = path
        self.max_batch = max_batch
        self._input = self.interpreter.get_input_details()[0]
        self._output = self.interpreter.get_output_details()[0]
        shape = tuple(int(v) for v in self._input["shape"][1:])
        if shape != (spec.input_size, spec.input_size, spec.channels):
            raise ModelLoadError(
                f"{path.name} takes {shape} inputs but the spec says "
                f"{(spec.input_size, spec.input_size, spec.channels)}")
        self._batch = 0

    def _run(self, batch: np.ndarray) -> np.ndarray:
        if len(batch) != self._batch:
            # Re-allocating costs well under a millisecond for these models; it happens at most
            # once or twice per video.
            self.interpreter.resize_tensor_input(self._input["index"], batch.shape)
            self.interpreter.allocate_tensors()
            self._batch = len(batch)
        self.interpreter.set_tensor(self._input["index"], np.ascontiguousarray(batch))
        self.interpreter.invoke()
        return self.interpreter.get_tensor(self._output["index"]).reshape(-1).copy()

    def score_batch(self, batch: np.ndarray) -> np.ndarray:
        """Raw scores for an already preprocessed float32 batch (N, S, S, C)."""
        if not len(batch):
            return np.zeros((0,), dtype=np.float32)
        return np.concatenate([
            self._run(batch[start:start + self.max_batch])
            for start in range(0, len(batch), self.max_batch)
        ]).astype(np.float32)

    def score(self, crops: list[np.ndarray]) -> np.ndarray:
        if not crops:
            return np.zeros((0,), dtype=np.float32)
        return self.score_batch(preprocess(crops, self.spec.input_size, self.spec.channels))


def file_sha256(path: str | Path) -> str:
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def serving_path(spec: ModelSpec, weights_path: str | Path) -> Path | None:
    """The LiteRT file converted from exactly these weights, or None.

    `convert_model` records the file as `serving_file` and, in `metrics["serving"]`, the
    SHA-256 of the .keras it came from. The registry copies `metrics` but not `serving_file`,
    so either names the file; the hash guards against serving a conversion of older weights
    after a retrain overwrote the .keras.
    """
    weights_path = Path(weights_path)
    serving = spec.metrics.get("serving") or {}
    name = spec.serving_file or serving.get("file")
    if not name:
        return None
    p = Path(name)
    p = p if p.is_absolute() else weights_path.parent / p
    if not p.is_file():
        raise ModelLoadError(f"Serving model file not found: {p}")
    expected = serving.get("keras_sha256")
    if expected and weights_path.is_file() and file_sha256(weights_path) != expected:
        return None  # stale: converted from other weights; serve the Keras model instead
    return p


def make_classifier(spec: ModelSpec, weights_path: str | Path, *, prefer: str = "auto",
                    num_threads: int | None = None):
    """The classifier for a spec: LiteRT when its file exists ('auto'), else Keras.

    `prefer` is 'auto', 'litert' (fail if there is no .tflite) or 'keras'.
    """
    if prefer not in {"auto", "litert", "keras"}:
        raise ValueError(f"unknown classifier backend {prefer!r}")
    if prefer != "keras":
        path = serving_path(spec, weights_path)
        if path is not None:
            return LiteRTFaceClassifier(spec, path, num_threads=num_threads)
        if prefer == "litert":
            raise ModelLoadError(f"No .tflite serving file for {Path(weights_path).name}")
    return KerasFaceClassifier(spec, weights_path)


def convert_to_tflite(weights_path: str | Path, out_path: str | Path | None = None) -> Path:
    """Convert a `.keras` model to a float32 `.tflite` (no quantisation: scores must match).

    Keras 3 exports a SavedModel, which the TFLite converter reads; the file is written beside
    the weights unless `out_path` says otherwise.
    """
    import tempfile

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras
    import tensorflow as tf

    weights_path = Path(weights_path)
    out_path = Path(out_path) if out_path else weights_path.with_suffix(".tflite")
    model = keras.models.load_model(weights_path, compile=False)
    with tempfile.TemporaryDirectory() as tmp:
        model.export(tmp, verbose=False)
        converter = tf.lite.TFLiteConverter.from_saved_model(tmp)
        converter.optimizations = []  # float32 as trained; int8 would shift the scores
        data = converter.convert()
    out_path.write_bytes(data)
    return out_path
