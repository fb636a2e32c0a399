"""A new version that serves an existing version's weights as an int8 LiteRT file.

    python -m detection.training quantize --spec detection/models/lite0_sbi_v3.json \\
        --data ../shared/data --version 4 [--samples 512] [--cache-dir var/cache]

Why: on a 2-core machine the classifier is about half the work after decoding, and XNNPACK's
int8 kernels score about twice as many faces a second as float32 (bench/pipeline_speed.py
measures what that does to a whole analysis). Why a new version: int8 moves every score a
little (a few tenths of a logit), so the float version's calibration and uncertain band do not
fit it; they are fitted again here on the int8 file's own scores.

- Each activation's int8 range comes from representative inputs: `--samples` training samples
  (real, self-blended and labelled fakes, degraded as in training, made from the faces the
  version trained on), each also mirrored. Never the held-out or the validation faces.
- The held-out faces (the same split the version was calibrated on) then calibrate the int8
  version (Platt scaling and uncertain band, as `finalise_blend_model` does) and measure how far
  its scores moved from the float model's: the `fidelity` block in the spec's serving record.

Writes `<name>_v<version>.tflite` and `.json` beside the source spec (the weights file is
shared, not copied). Evaluate the new version with `manage.py evaluate_model --model SPEC` (its
card then gets the validation figures) before registering it with `register_model`.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import os
from pathlib import Path

import numpy as np

from detection.pipeline.spec import ModelSpec
from detection.training.evaluation import metrics

REPRESENTATIVE_SAMPLES = 512
# How far the version's float AUC on the rebuilt held-out faces may stray from the one it
# recorded on them (the self-blended samples are remade; pools have been re-cut since).
HELD_OUT_AUC_TOLERANCE = 0.01


def quantize_version(
    spec_path: str | Path, config, version: str, samples: int = REPRESENTATIVE_SAMPLES
) -> tuple[ModelSpec, Path]:
    """Write and calibrate an int8 serving of `spec_path`'s weights as `version`.

    `config`: a `BlendTrainConfig` naming the training faces (labelled folders, real pools,
    cache, held-out split, seed, self-blended share); its input size and margin are taken from
    the spec. Returns the new spec and its path."""
    from detection.pipeline.classify import (
        KerasFaceClassifier,
        LiteRTFaceClassifier,
        convert_to_tflite,
        file_sha256,
    )
    from detection.training.data.samples import make_samples
    from detection.training.recipes.train import prepare_blend_data, uncertain_band

    spec_path = Path(spec_path)
    base = ModelSpec.load(spec_path)
    if str(version) == str(base.version):
        raise ValueError(f"version {version} is the source version's own number")
    weights = base.weights_path(spec_path)
    if not weights.is_file():
        raise FileNotFoundError(f"No weights at {weights}")
    config = dataclasses.replace(config, input_size=base.input_size, face_margin=base.face_margin)
    data = prepare_blend_data(config)
    held_x, held_y = data.cal_x, data.cal_y.astype(int)
    z_float = KerasFaceClassifier(base, weights).logits_batch(held_x)
    _check_held_out(base, metrics.auc(held_y, z_float), config)
    representative, _ = make_samples(
        data.reals[data.real_fit],
        data.real_kps[data.real_fit],
        data.fakes[data.fake_fit],
        samples,
        config.sbi_share,
        base.input_size,
        np.random.default_rng(config.seed + 2),
    )

    out_dir = spec_path.parent
    tflite = out_dir / f"{base.name}_v{version}.tflite"
    convert_to_tflite(weights, tflite, representative=representative.astype(np.float32))
    serving = {
        "file": tflite.name,
        "keras_sha256": file_sha256(weights),
        "output": "logit",
        "quantization": "int8",
        "representative": f"{samples} training samples (each also mirrored)",
        "converted_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    draft = dataclasses.replace(
        base, version=str(version), serving_file=tflite.name, serving=serving, metrics={}
    )
    z_int8 = LiteRTFaceClassifier(draft, tflite).logits_batch(held_x)
    moved = np.abs(z_int8 - z_float)
    serving["fidelity"] = {
        "held_out_faces": int(len(held_y)),
        # Undefined (None) where either set of scores is constant (an untrained model).
        "logit_correlation": (
            float(np.corrcoef(z_int8, z_float)[0, 1])
            if np.std(z_int8) > 0 and np.std(z_float) > 0
            else None
        ),
        "median_abs_logit_change": float(np.median(moved)),
        "p95_abs_logit_change": float(np.quantile(moved, 0.95)),
        "max_abs_logit_change": float(moved.max()),
        "held_out_auc_float": metrics.auc(held_y, z_float),
        "held_out_auc_int8": metrics.auc(held_y, z_int8),
    }
    a, b = metrics.fit_platt_logits(held_y, z_int8)
    calibrated = dataclasses.replace(draft, calibration_a=a, calibration_b=b)
    probabilities = np.array([calibrated.calibrate_logit(z) for z in z_int8])
    low, high = uncertain_band(held_y, probabilities)
    training = dict(base.metrics.get("training", {}))
    training.update(
        {
            "quantized_from": f"{base.name} v{base.version}",
            "images_calibration": int(len(held_y)),
            # The source's own remark about its weights, then what this version changes.
            "note": " ".join(
                filter(
                    None,
                    [
                        training.get("note"),
                        f"v{version} serves {base.name} v{base.version}'s weights "
                        "as an int8 LiteRT file, calibrated on its own scores.",
                    ],
                )
            ),
        }
    )
    spec = ModelSpec.from_dict(
        {
            **calibrated.to_dict(),
            "uncertain_low": low,
            "uncertain_high": high,
            "metrics": {
                "training": training,
                "calibration_split": metrics.summary(held_y, probabilities, base.fake_threshold),
            },
            "notes": (
                f"{base.name} v{base.version}'s weights (`{base.weights_file}`) served as an "
                "int8 LiteRT file, calibrated on its own scores; see the serving record for "
                "how far they moved from the float model's."
            ),
        }
    )
    out_spec = out_dir / f"{base.name}_v{version}.json"
    spec.save(out_spec)
    return spec, out_spec


def _check_held_out(base: ModelSpec, found: float | None, config) -> None:
    """Refuse held-out faces other than the ones the version was calibrated on.

    The split is rebuilt here from the training faces; weights trained elsewhere (lite0_sbi
    v2's, which v3 serves) held out faces named in a listing, and the by-file split would pick
    faces they trained on: calibration would then fit over-confident scores. The version's
    float scores on the rebuilt faces must reproduce the AUC it recorded on its own."""
    recorded = (base.metrics.get("calibration_split") or {}).get("auc")
    if recorded is None or found is None or abs(found - recorded) <= HELD_OUT_AUC_TOLERANCE:
        return
    how = (
        f"the faces listed in {Path(config.held_out_keys).name}"
        if config.held_out_keys
        else "the by-file split"
    )
    raise ValueError(
        f"{base.name} v{base.version} scores {found:.3f} AUC on {how} but recorded "
        f"{recorded:.3f} on the faces it was calibrated on: these are other faces (some it may "
        "have trained on). Pass the listing it held out (--held-out-keys)."
    )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--spec", type=Path, required=True, help="the version to quantize")
    parser.add_argument("--version", required=True, help="the new version's number")
    parser.add_argument("--data", type=Path, required=True, help="data root (faces/...)")
    parser.add_argument(
        "--samples",
        type=int,
        default=REPRESENTATIVE_SAMPLES,
        help="representative training samples for the int8 ranges",
    )
    parser.add_argument(
        "--held-out-keys",
        type=Path,
        help="JSON listing the faces the weights never trained on (lite0_sbi "
        "v2's weights: detection/models/lite0_sbi_v2.held_out.json); "
        "else the by-file split",
    )
    parser.add_argument("--cache-dir", type=Path, help="cache the cut training faces here")
    parser.add_argument("--seed", type=int, default=1234)
    a = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

    from detection.training.data.labelled import real_pools_under
    from detection.training.recipes.train import BlendTrainConfig

    config = BlendTrainConfig(
        labelled_dirs=[a.data / "faces/openforensics/train"],
        real_pools=[p for p in real_pools_under(a.data) if p.is_dir()],
        val_dir=None,
        out_dir=a.spec.parent,
        cache_dir=a.cache_dir,
        seed=a.seed,
        held_out_keys=a.held_out_keys,
    )
    try:
        spec, path = quantize_version(a.spec, config, a.version, a.samples)
    except (OSError, ValueError) as exc:  # a missing file, a wrong split or version number
        parser.exit(2, f"quantize: {exc}\n")
    f = spec.serving["fidelity"]
    corr = f["logit_correlation"]
    print(
        f"wrote {path} and {spec.serving_file}: on {f['held_out_faces']} held-out faces the "
        f"int8 logits correlate {'n/a' if corr is None else f'{corr:.4f}'} with the float "
        f"ones (median "
        f"change {f['median_abs_logit_change']:.2f}, largest {f['max_abs_logit_change']:.2f});"
        f" held-out AUC {f['held_out_auc_float']:.4f} float, {f['held_out_auc_int8']:.4f} "
        "int8. Next: manage.py evaluate_model --model " + str(path)
    )
    return 0
