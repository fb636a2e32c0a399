"""Render a model card (Markdown) from a spec and its evaluation reports."""
from __future__ import annotations

from detection.pipeline.spec import ModelSpec


def _fmt(value) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def render(spec: ModelSpec) -> str:
    m = spec.metrics
    training = m.get("training", {})
    lines = [
        f"# Model card: {spec.name} v{spec.version}",
        "",
        f"- Architecture: `{spec.architecture}`, input {spec.input_size}x{spec.input_size}x"
        f"{spec.channels} ({'grayscale' if spec.channels == 1 else 'RGB'}), face margin "
        f"{spec.face_margin} of the face box on each side.",
        f"- Weights: `{spec.weights_file}`; trained {spec.trained_at}.",
        f"- Calibration: Platt scaling p = sigmoid({spec.calibration_a:.4f} * logit(raw) + "
        f"{spec.calibration_b:.4f}), fitted on a held-out {training.get('images_calibration')} "
        "training crops (never on the validation sets below).",
        f"- Decision: fake if p >= {spec.uncertain_high}, real if p < {spec.uncertain_low}, "
        f"uncertain in between; accuracy figures use the single cut p >= {spec.fake_threshold}.",
        "",
        "## Training",
        "",
        f"- Data: `{training.get('train_dir')}` ({training.get('images_fit')} crops fitted).",
        f"- Epochs: {training.get('epochs_run')} run of at most {training.get('epochs_max')} "
        f"(early stopping on held-out AUC), batch {training.get('batch_size')}, Adam lr "
        f"{training.get('learning_rate')}, seed {training.get('seed')}; augmentation: horizontal "
        "flip, brightness/contrast jitter.",
        "",
        "## Results (data the model never trained on)",
        "",
        "| set | level | n | AUC | accuracy | ECE |",
        "|---|---|---|---|---|---|",
    ]
    for key, level in (("frames", "frame"), ("videos", "video")):
        block = m.get(key)
        if not block:
            continue
        overall = block.get("overall", block)
        lines.append(f"| `{block.get('dir', '')}` | {level} | {_fmt(overall.get('n'))} | "
                     f"{_fmt(overall.get('auc'))} | {_fmt(overall.get('accuracy'))} | "
                     f"{_fmt(overall.get('ece'))} |")
    videos = m.get("videos")
    if videos and videos.get("protocol"):
        lines += ["", f"Video-level protocol: {videos['protocol']}."]
    if videos and videos.get("by_group"):
        lines += ["", "### Videos by subfolder (each fake method against all real videos)", "",
                  "| subfolder | n | AUC | accuracy | no face |", "|---|---|---|---|---|"]
        for group, block in videos["by_group"].items():
            lines.append(f"| `{group}` | {block['n']} | {_fmt(block['auc'])} | "
                         f"{_fmt(block['accuracy'])} | {block['no_face']} |")
    if spec.notes:
        lines += ["", "## Notes", "", spec.notes]
    return "\n".join(lines) + "\n"
