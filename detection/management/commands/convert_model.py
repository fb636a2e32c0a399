from dataclasses import replace
from pathlib import Path

import numpy as np
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from detection.pipeline.errors import ModelLoadError
from detection.pipeline.spec import ModelSpec

# LiteRT runs the same float32 graph; anything above this is a conversion bug, not rounding.
TOLERANCE = 1e-5


class Command(BaseCommand):
    help = ("Convert a model's .keras weights to a float32 LiteRT file (<name>_v<version>.tflite "
            "beside them) for fast serving, check its scores match the Keras model, and record it "
            "in the spec as `serving_file`. The pipeline then serves the .tflite.")
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("spec", type=Path, help="the model's .json spec file")
        parser.add_argument("--samples", type=int, default=64,
                            help="random inputs used to compare the two models")

    def handle(self, *args, spec: Path, samples: int, **options):
        from detection.pipeline.classify import (KerasFaceClassifier, LiteRTFaceClassifier,
                                                 convert_to_tflite, file_sha256, is_quantized)

        if not spec.is_file():
            raise CommandError(f"No model spec at {spec}")
        try:
            model = ModelSpec.load(spec)
        except (ValueError, TypeError) as exc:
            raise CommandError(f"Cannot read {spec}: {exc}") from exc
        if is_quantized(model):
            # A float file would be served with the calibration fitted on the int8 scores.
            raise CommandError(f"{spec.name} serves an int8 conversion calibrated on its own "
                               "scores; make it again with `python -m "
                               "detection.training.quantize`, not as a float32 conversion")
        weights = model.weights_path(spec)
        if not weights.is_file():
            raise CommandError(f"No weights at {weights}")
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
            lite_model = LiteRTFaceClassifier(
                replace(model, metrics={**model.metrics, "serving": {"output": "logit"}}), out)
        except (ModelLoadError, ValueError, OSError) as exc:
            raise CommandError(f"Cannot convert {weights.name}: {exc}") from exc
        rng = np.random.default_rng(0)
        batch = rng.uniform(0, 255, (samples, model.input_size, model.input_size,
                                     model.channels)).astype(np.float32)
        diff = float(np.max(np.abs(keras_model.score_batch(batch) - lite_model.score_batch(batch))))
        if diff > TOLERANCE:
            if shared is None:
                out.unlink()
            raise CommandError(f"The converted model differs from the Keras one by {diff:.2e} "
                               f"(> {TOLERANCE:g}); not recorded.")
        # "output": the file serves logits (conversions before that served the sigmoid).
        serving = {"file": out.name, "keras_sha256": weights_sha, "output": "logit",
                   "max_abs_diff": diff,
                   "converted_at": timezone.now().isoformat(timespec="seconds")}
        replace(model, serving_file=out.name,
                metrics={**model.metrics, "serving": serving}).save(spec)
        self.stdout.write(self.style.SUCCESS(
            f"{'reused' if shared is not None else 'wrote'} {out} "
            f"({out.stat().st_size / 1e6:.1f} MB); max |keras - litert| = {diff:.1e} "
            f"on {samples} inputs; recorded as serving_file in {spec}"))


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
        serving = found_spec.metrics.get("serving") or {}
        found = found_spec.weights_path(other).parent / serving.get("file", "")
        if (serving.get("keras_sha256") == weights_sha and serving.get("output") == "logit"
                and serving.get("file") and found.is_file()):
            return found
    return None
