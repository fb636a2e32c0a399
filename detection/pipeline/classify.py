"""Classify stage: score face crops with the model, batched per video.

Two interchangeable classifiers with the same `logits(crops)` and `score(crops)`: the Keras
model as trained, and its LiteRT (TFLite) conversion, which serves the same float32 maths
without TensorFlow (less memory, faster start, faster small batches). `make_classifier` prefers
the LiteRT file when one exists beside the weights.

Both work in logits, the model's output before its final sigmoid: in float32 the sigmoid
reaches exactly 1.0 from a logit of about 17, and confident faces would then tie (lite0_sbi v2
lost 0.005 frame AUC on OpenForensics to such ties). `score()` is the sigmoid of the logit in
float64, which keeps them apart.

TensorFlow is imported lazily: importing it costs ~2 s and ~600 MB, which commands that never
classify (or tests of other stages) should not pay.
"""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np

from .errors import ModelLoadError
from .spec import ModelSpec, logit, sigmoid

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


class FaceClassifier:
    """What both classifiers share: preprocessing, the mirror view, logits and scores.

    Subclasses implement `_logits(batch)` for a preprocessed float32 batch.
    """

    spec: ModelSpec

    def _logits(self, batch: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def logits_batch(self, batch: np.ndarray) -> np.ndarray:
        """Logits (float64) for an already preprocessed float32 batch (N, S, S, C); with the
        spec's `test_time_flip`, the mean of the face's and its mirror image's logits."""
        if not len(batch):
            return np.zeros((0,), dtype=np.float64)
        z = self._logits(batch).astype(np.float64)
        if self.spec.test_time_flip:
            z = (z + self._logits(np.ascontiguousarray(batch[:, :, ::-1])).astype(np.float64)) / 2
        return z

    def logits(self, crops: list[np.ndarray]) -> np.ndarray:
        if not crops:
            return np.zeros((0,), dtype=np.float64)
        return self.logits_batch(preprocess(crops, self.spec.input_size, self.spec.channels))

    def score_batch(self, batch: np.ndarray) -> np.ndarray:
        """Raw fake scores (0..1, float64) for a preprocessed batch."""
        return sigmoid(self.logits_batch(batch))

    def score(self, crops: list[np.ndarray]) -> np.ndarray:
        """Raw fake scores (0..1, float64) per BGR crop."""
        return sigmoid(self.logits(crops))

    def single_threaded(self) -> FaceClassifier:
        """A classifier giving the same logits on one CPU thread, for work that must only use
        idle time (the pipeline's helper thread); itself where it cannot make one."""
        return self


def logit_head(model):
    """(features model, kernel, bias) for a model whose last layer is Dense(1, sigmoid): the
    logit is features @ kernel + bias. Any other last layer is served as it is."""
    import keras

    last = model.layers[-1]
    if not (
        isinstance(last, keras.layers.Dense)
        and last.units == 1
        and getattr(last.activation, "__name__", "") == "sigmoid"
    ):
        return None
    kernel, bias = (np.asarray(w) for w in last.get_weights())
    inputs = model.inputs[0] if len(model.inputs) == 1 else model.inputs
    return keras.Model(inputs, last.input), kernel, bias


def logit_model(model):
    """The same model with its final sigmoid removed: it outputs the logit."""
    import keras

    head = logit_head(model)
    if head is None:
        raise ValueError(f"{model.name!r} does not end in Dense(1, sigmoid): no logit to serve")
    features, kernel, bias = head
    dense = keras.layers.Dense(1, name="fake_logit")
    outputs = dense(features.outputs[0])
    dense.set_weights([kernel, bias])
    return keras.Model(features.input, outputs, name=f"{model.name}_logit")


class KerasFaceClassifier(FaceClassifier):
    """Loads a `.keras` file once and serves its logits."""

    def __init__(self, spec: ModelSpec, weights_path: str | Path):
        self.spec = spec
        path = Path(weights_path)
        if not path.is_file():
            raise ModelLoadError(f"Model weights not found: {path}")
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep C++ start-up chatter quiet
        try:
            import keras
            import tensorflow as tf  # noqa: F401 (Keras's backend: fail early and clearly)
        except ImportError as exc:  # pragma: no cover - broken install
            raise ModelLoadError(f"TensorFlow is not installed: {exc}") from exc
        try:
            model = keras.models.load_model(path, compile=False)
        except Exception as exc:
            raise ModelLoadError(f"Cannot load model weights {path.name}: {exc}") from exc
        self._serve(model)

    @classmethod
    def from_model(cls, spec: ModelSpec, model) -> KerasFaceClassifier:
        """Serve a model already in memory (a training run's, before it is saved)."""
        classifier = cls.__new__(cls)
        classifier.spec = spec
        classifier._serve(model)
        return classifier

    def _serve(self, model) -> None:
        import tensorflow as tf

        self.model = model
        # A traced call is ~10x faster than model.predict() for the small batches we send.
        try:
            served = logit_model(self.model)
        except ValueError:  # some other head: its output is the raw score
            served = self.model
        self._sigmoid_output = served is self.model
        self._call = tf.function(lambda x: served(x, training=False), reduce_retracing=True)
        head = logit_head(self.model)
        self._features = (
            None
            if head is None
            else tf.function(lambda x: head[0](x, training=False), reduce_retracing=True)
        )

    def features_batch(self, batch: np.ndarray) -> np.ndarray:
        if self._features is None:
            raise ModelLoadError(f"{self.model.name!r} has no pooled features to serve")
        return np.concatenate(
            [
                np.asarray(self._features(batch[i : i + BATCH_SIZE]))
                for i in range(0, len(batch), BATCH_SIZE)
            ]
        ).astype(np.float32)

    def _logits(self, batch: np.ndarray) -> np.ndarray:
        out = np.concatenate(
            [
                np.asarray(self._call(batch[i : i + BATCH_SIZE])).reshape(-1)
                for i in range(0, len(batch), BATCH_SIZE)
            ]
        )
        return logit(out) if self._sigmoid_output else out


def _cpu_threads() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


class LiteRTFaceClassifier(FaceClassifier):
    """Runs a `.tflite` conversion of the model with the LiteRT interpreter (no TensorFlow).

    Conversions made since models serve logits output the logit (`serving["output"] ==
    "logit"`); older ones output the sigmoid, whose logit is taken here.

    Crops go through in batches of `max_batch`: on 2 threads, batches of 8 score about 1,165
    Lite0 crops/s against about 1,000 for one call over a video's 32 crops (three runs of
    bench/pipeline_speed.py, which prints both); small batches also keep the tensor small when
    a video has hundreds of faces.
    """

    def __init__(
        self,
        spec: ModelSpec,
        model_path: str | Path,
        *,
        num_threads: int | None = None,
        max_batch: int = 8,
    ):
        self.spec = spec
        path = Path(model_path)
        if not path.is_file():
            raise ModelLoadError(f"Model file not found: {path}")
        try:
            from ai_edge_litert.interpreter import Interpreter
        except ImportError as exc:  # pragma: no cover - broken install
            raise ModelLoadError(f"LiteRT is not installed: {exc}") from exc
        try:
            self.interpreter = Interpreter(
                model_path=str(path), num_threads=num_threads or _cpu_threads()
            )
        except Exception as exc:
            raise ModelLoadError(f"Cannot load model file {path.name}: {exc}") from exc
        self.path = path
        self.max_batch = max_batch
        self._input = self.interpreter.get_input_details()[0]
        # One output (the logit), or two: the logit and the pooled features the synthesis
        # branch reads (`convert_to_tflite(with_features=True)`), told apart by their width.
        outputs = sorted(self.interpreter.get_output_details(), key=lambda d: d["shape"][-1])
        self._output = outputs[0]
        self._features_output = outputs[-1] if len(outputs) > 1 else None
        shape = tuple(int(v) for v in self._input["shape"][1:])
        if shape != (spec.input_size, spec.input_size, spec.channels):
            raise ModelLoadError(
                f"{path.name} takes {shape} inputs but the spec says "
                f"{(spec.input_size, spec.input_size, spec.channels)}"
            )
        self._batch = 0
        self._outputs_logit = spec.serving.get("output") == "logit"
        self.num_threads = num_threads or _cpu_threads()

    def single_threaded(self) -> LiteRTFaceClassifier:
        # A second interpreter: XNNPACK's worker threads would run at normal priority.
        if self.num_threads == 1:
            return self
        return LiteRTFaceClassifier(self.spec, self.path, num_threads=1, max_batch=self.max_batch)

    def _run(self, batch: np.ndarray, output: dict | None = None) -> np.ndarray:
        if len(batch) != self._batch:
            # Re-allocating costs well under a millisecond for these models; it happens at most
            # once or twice per video.
            self.interpreter.resize_tensor_input(self._input["index"], batch.shape)
            self.interpreter.allocate_tensors()
            self._batch = len(batch)
        self.interpreter.set_tensor(self._input["index"], np.ascontiguousarray(batch))
        self.interpreter.invoke()
        if output is not None:
            return self.interpreter.get_tensor(output["index"]).reshape(len(batch), -1).copy()
        return self.interpreter.get_tensor(self._output["index"]).reshape(-1).copy()

    def features_batch(self, batch: np.ndarray) -> np.ndarray:
        """The pooled backbone features (N, 1280) of a preprocessed batch."""
        if self._features_output is None:
            raise ModelLoadError(
                f"{self.path.name} serves no features: convert it with "
                "features for a version with a synthesis branch"
            )
        return np.concatenate(
            [
                self._run(batch[start : start + self.max_batch], self._features_output)
                for start in range(0, len(batch), self.max_batch)
            ]
        )

    def _logits(self, batch: np.ndarray) -> np.ndarray:
        out = np.concatenate(
            [
                self._run(batch[start : start + self.max_batch])
                for start in range(0, len(batch), self.max_batch)
            ]
        )
        return out.astype(np.float64) if self._outputs_logit else logit(out)


def file_sha256(path: str | Path) -> str:
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def serving_path(spec: ModelSpec, weights_path: str | Path) -> Path | None:
    """The LiteRT file converted from exactly these weights, or None.

    `convert_model` records the file as `serving_file` and, in `serving`, the SHA-256 of the
    .keras it came from; the hash guards against serving a conversion of older weights
    after a retrain overwrote the .keras.
    """
    weights_path = Path(weights_path)
    serving = spec.serving
    name = spec.serving_file or serving.get("file")
    if not name:
        return None
    p = Path(name)
    p = p if p.is_absolute() else weights_path.parent / p
    if not p.is_file():
        raise ModelLoadError(f"Serving model file not found: {p}")
    expected = serving.get("keras_sha256")
    if expected and weights_path.is_file() and file_sha256(weights_path) != expected:
        if is_quantized(spec):
            # Its calibration was fitted on the int8 file's logits: the float model, or an
            # int8 file of other weights, would be served with the wrong calibration.
            raise ModelLoadError(
                f"{p.name} was quantized from other weights than "
                f"{weights_path.name}; quantize this version again"
            )
        return None  # stale: converted from other weights; serve the Keras model instead
    return p


def is_quantized(spec: ModelSpec) -> bool:
    """Whether the version serves an int8 conversion (calibrated on that file's logits)."""
    return spec.serving.get("quantization") == "int8"


def make_classifier(
    spec: ModelSpec,
    weights_path: str | Path,
    *,
    prefer: str = "auto",
    num_threads: int | None = None,
):
    """The classifier for a spec: LiteRT when its file exists ('auto'), else Keras.

    `prefer` is 'auto', 'litert' (fail if there is no .tflite) or 'keras'.
    """
    if prefer not in {"auto", "litert", "keras"}:
        raise ValueError(f"unknown classifier backend {prefer!r}")
    if prefer == "keras" and is_quantized(spec):
        raise ModelLoadError(
            f"{spec.name} v{spec.version} serves an int8 conversion and is "
            "calibrated on its scores; the float Keras model would not match"
        )
    if prefer != "keras":
        path = serving_path(spec, weights_path)
        if path is not None:
            return LiteRTFaceClassifier(spec, path, num_threads=num_threads)
        if prefer == "litert":
            raise ModelLoadError(f"No .tflite serving file for {Path(weights_path).name}")
    return KerasFaceClassifier(spec, weights_path)


def convert_to_tflite(
    weights_path: str | Path,
    out_path: str | Path | None = None,
    *,
    representative: np.ndarray | None = None,
    with_features: bool = False,
) -> Path:
    """Convert a `.keras` model to a `.tflite` that outputs the logit (the model without its
    final sigmoid): float32, whose scores match the Keras model, or, given `representative`
    inputs, int8.

    int8 (`representative`: preprocessed float32 faces (N, S, S, C), each also used mirrored,
    as the mirror view is served): weights and activations in 8 bits, float input and output.
    XNNPACK's int8 kernels score about twice as many faces a second on one CPU core; the scores
    move (a few tenths of a logit), so such a file is its own version, calibrated on its own
    scores (`detection.training.export.quantization`).

    Keras 3 exports a SavedModel, which the TFLite converter reads; the file is written beside
    the weights unless `out_path` says otherwise.
    """
    import tempfile

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras
    import tensorflow as tf

    weights_path = Path(weights_path)
    out_path = Path(out_path) if out_path else weights_path.with_suffix(".tflite")
    model = logit_model(keras.models.load_model(weights_path, compile=False))
    if with_features:
        # A second output, the pooled features under the logit, for a synthesis branch.
        model = keras.Model(
            model.input, [model.output, model.layers[-1].input], name=f"{model.name}_features"
        )
    with tempfile.TemporaryDirectory() as tmp:
        model.export(tmp, verbose=False)
        converter = tf.lite.TFLiteConverter.from_saved_model(tmp)
        if representative is None:
            converter.optimizations = []  # float32 as trained: the scores must match
        else:
            faces = np.asarray(representative, dtype=np.float32)

            def samples():
                for face in faces:
                    yield [face[None]]
                    yield [np.ascontiguousarray(face[None, :, ::-1])]

            converter.optimizations = [tf.lite.Optimize.DEFAULT]
            converter.representative_dataset = samples
            converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        data = converter.convert()
    out_path.write_bytes(data)
    return out_path
