"""`python -m detection.training TASK [ARGS]`: one entry per task (`--help` after a task for its
arguments). Training on labelled crops, evaluation into a spec and float32 conversion need the
registry's settings and run as `manage.py train_detector`, `evaluate_model`, `convert_model`."""

from __future__ import annotations

import importlib
import sys

# task -> (module with main(argv), what it does)
TASKS = {
    "pack": (
        "detection.training.data.pack",
        "the faces a self-blended run trains on, in one file for another machine",
    ),
    "train-parallel": (
        "detection.training.recipes.parallel_train",
        "self-blended training at accelerator speed from a pack",
    ),
    "port-lite0": (
        "detection.training.recipes.port_efficientnet_lite0",
        "port ImageNet EfficientNet-Lite0 weights to our Keras layout (once)",
    ),
    "compare": (
        "detection.training.evaluation.compare",
        "compare candidate weights on the same held-out faces",
    ),
    "calibrate-videos": (
        "detection.training.evaluation.calibration",
        "fit a version's video calibration and band on labelled videos",
    ),
    "robustness": (
        "detection.training.evaluation.robustness",
        "video verdicts after re-encoding, as sites re-encode uploads",
    ),
    "short-range-boxes": (
        "detection.training.evaluation.short_range_boxes",
        "measure the short-range face detector's box convention",
    ),
    "branch-features": (
        "detection.training.data.branch_features",
        "per-face branch features of labelled videos and crops (resumable)",
    ),
    "train-fusion": (
        "detection.training.recipes.train_fusion",
        "a fused detector's candidates, held-out figures, choice and spec",
    ),
    "verdicts": (
        "detection.training.evaluation.verdicts",
        "each version's verdicts on labelled videos, per dataset and speed profile",
    ),
    "gpu-round": (
        "detection.training.recipes.gpu_round",
        "one prepared accelerator round for the larger blending model",
    ),
    "quantize": (
        "detection.training.export.quantization",
        "a new version serving an existing one's weights as int8 LiteRT",
    ),
}


def usage() -> str:
    width = max(map(len, TASKS))
    rows = "\n".join(f"  {name:<{width}}  {about}" for name, (_, about) in TASKS.items())
    return f"usage: python -m detection.training TASK [ARGS]\n\ntasks:\n{rows}\n"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] not in TASKS:
        sys.stderr.write(usage())
        return 0 if argv[:1] in (["-h"], ["--help"]) else 2
    module = importlib.import_module(TASKS[argv[0]][0])
    sys.argv[0] = f"python -m detection.training {argv[0]}"  # argparse's usage line
    return module.main(argv[1:]) or 0


if __name__ == "__main__":
    sys.exit(main())
