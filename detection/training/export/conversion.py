"""A version's .keras weights as a float32 LiteRT file, checked against Keras and recorded.

The file is written beside the weights as <name>_v<version>.tflite and recorded in the spec as
`serving_file` (with its `serving` record); the pipeline then serves it. Versions that serve the
same weights differently share one conversion. `manage.py convert_model SPEC` runs this.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from detection.pipeline.errors import ModelLoadError
from detection.pipeline.spec import ModelSpec

# LiteRT runs the same float32 graph; anything above this is a conversion bug, not rounding.
TOLERANCE = 1e-5


class ConversionRefused(Exception):
    """The version cannot (or must not) be converted; the message says why."""


@dataclass(frozen=True)
class Conversion:
    path: Path
    reused: bool  # True: another version's conversion of the same weights
    max_abs_diff: float
    samples: int


def convert_version(spec: Path, *, samples: int = 64) -> Conversion:
    """Convert the version at `spec`, compare it with Keras on random inputs, record it."""
    from detection.pipeline.classify import (
        KerasFaceClassifier,
        LiteRTFaceClassifier,
        convert_to_tflite,
        file_sha256,
        is_quantized,
    )

    if not spec.is_file():
        raise ConversionRefused(f"No model spec at {spec}")
    try:
        model = ModelSpec.load(spec)
    except (ValueError, TypeError) as exc:
        raise ConversionRefused(f"Cannot read {spec}: {exc}") from exc
    if is_quantized(model):
        # A float file would be served with the calibration fitted on the int8 scores.
        raise ConversionRefused(
            f"{spec.name} serves an int8 conversion calibrated on its own "
            "scores; make it again with `python -m "
            "detection.training.export.quantization`, not as a float32 "
            "conversion"
        )
    weights = model.weights_path(spec)
    if not weights.is_file():
        raise ConversionRefused(f"No weights at {weights}")
    out = weights.parent / f"{model.name}_v{model.version}.tflite"
    weights_sha = file_sha256(weights)
    shared = _conversion_of(weights_sha, spec)
    try:
        if shared is not None:
            # Versions that serve the same weights differently (mirror view, pooling,
            # calibration) share one conversion instead of a 13 MB copy each.
            out = shared
        else:
            convert_to_tflite(weights, out)
        keras_model = KerasFaceClassifier(model, weights)
        lite_model = LiteRTFaceClassifier(replace(model, serving={"output": "logit"}), out)
    except (ModelLoadError, ValueError, OSError) as exc:
        raise ConversionRefused(f"Cannot convert {weights.name}: {exc}") from exc
    rng = np.random.default_rng(0)
    batch = rng.uniform(
        0, 255, (samples, model.input_size, model.input_size, model.channels)
    ).astype(np.float32)
    diff = float(np.max(np.abs(keras_model.score_batch(batch) - lite_model.score_batch(batch))))
    if diff > TOLERANCE:
        if shared is None:
            out.unlink()
        raise ConversionRefused(
            f"The converted model differs from the Keras one by {diff:.2e} "
            f"(> {TOLERANCE:g}); not recorded."
        )
    # "output": the file serves logits (conversions before that served the sigmoid).
    serving = {
        "file": out.name,
        "keras_sha256": weights_sha,
        "output": "logit",
        "max_abs_diff": diff,
        "converted_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    replace(model, serving_file=out.name, serving=serving).save(spec)
    return Conversion(path=out, reused=shared is not None, max_abs_diff=diff, samples=samples)


def _conversion_of(weights_sha: str, spec_path: Path) -> Path | None:
    """A logit-serving LiteRT file that another spec beside this one records as converted from
    weights with this SHA-256, or None."""
    for other in sorted(spec_path.parent.glob("*.json")):
        if other.resolve() == spec_path.resolve():
            continue
        try:
            found_spec = ModelSpec.load(other)
        except (ValueError, TypeError, KeyError):
            continue  # not a model spec
        serving = found_spec.serving
        found = found_spec.weights_path(other).parent / serving.get("file", "")
        if (
            serving.get("keras_sha256") == weights_sha
            and serving.get("output") == "logit"
            and serving.get("file")
            and found.is_file()
        ):
            return found
    return None
