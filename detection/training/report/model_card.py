"""Render a model card (Markdown) from a spec and its evaluation reports.

Everything in the card comes from the spec's `metrics`, which the training run and
`manage.py evaluate_model --write-card` fill in; figures are never typed by hand.
"""
from __future__ import annotations

from pathlib import Path

from detection.pipeline.classify import is_quantized
from detection.pipeline.spec import ModelSpec


def _fmt(value) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def auc_text(block: dict) -> str:
    """The AUC with its 95% bootstrap interval where the report has one."""
    interval = block.get("auc_ci95")
    if block.get("auc") is None or not interval:
        return _fmt(block.get("auc"))
    return f"{block['auc']:.3f} ({interval[0]:.2f}-{interval[1]:.2f})"


def _fmt4(value) -> str:
    return "n/a" if value is None else f"{value:.4f}"


def _pct(value) -> str:
    return "n/a" if value is None else f"{100 * value:.0f}%"


def _breakdown(title: str, blocks: dict, video: bool) -> list[str]:
    if not blocks:
        return []
    head = "| subset | n | AUC (95% interval) | accuracy | ECE |" + (" no face | errors |" if video else "")
    lines = ["", f"#### {title}", "", head,
             "|---|---|---|---|---|" + ("---|---|" if video else "")]
    for name, b in blocks.items():
        row = (f"| `{name}` | {_fmt(b.get('n'))} | {auc_text(b)} | "
               f"{_fmt(b.get('accuracy'))} | {_fmt(b.get('ece'))} |")
        if video:
            row += f" {_fmt(b.get('no_face'))} | {_fmt(b.get('errors'))} |"
        lines.append(row)
    return lines


def _reliability(block: dict) -> list[str]:
    bins = [b for b in block.get("reliability") or [] if b.get("count")]
    if not bins:
        return []
    lines = ["", "Reliability (predicted vs observed share of fakes, per probability bin):", "",
             "| bin | n | mean predicted | observed fakes |", "|---|---|---|---|"]
    for b in bins:
        lines.append(f"| {b['low']:.1f}-{b['high']:.1f} | {b['count']} | "
                     f"{_fmt(b['mean_probability'])} | {_fmt(b['fake_rate'])} |")
    return lines


def _video_calibration(c: dict) -> list[str]:
    """The video calibration's method and its figures before and after (leave-one-out)."""
    lines = [
        "", "## Video calibration", "",
        f"Fitted on `{c.get('dir')}`: {c.get('n')} videos with a face ({c.get('n_fake')} "
        f"fake), {c.get('left_out')} left out (no face found, or unreadable). Each video's "
        "logit is the mean face logit of the person who decides it; Platt scaling is fitted "
        "with reals and fakes weighted equally, so a probability is what it would be with as "
        "many reals as fakes (the labelled set's share of fakes is not a site's). Every figure "
        "below is leave-one-out: each video's probability comes from a fit without it. The "
        f"band lets at most {_pct(c.get('max_miss'))} of the fakes be called real and at most "
        f"{_pct(c.get('max_false_flag'))} of the reals be called fake: error rates, which do "
        f"not depend on the share of fakes (real below {c.get('low')}, fake from "
        f"{c.get('high')}).", "",
        "| probabilities | ECE | ECE, classes weighted equally | accuracy | balanced accuracy "
        "| fakes called real | reals called fake | uncertain |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, key in (("before this calibration", "before"),
                      ("video calibration and band, leave-one-out", "loo")):
        f = c.get(key) or {}
        lines.append(f"| {name} | {_fmt(f.get('ece'))} | {_fmt(f.get('balanced_ece'))} | "
                     f"{_fmt(f.get('accuracy'))} | {_fmt(f.get('balanced_accuracy'))} | "
                     f"{_pct(f.get('fakes_called_real'))} | {_pct(f.get('reals_called_fake'))} | "
                     f"{_pct(f.get('uncertain_rate'))} |")
    return lines


def _robustness(r: dict) -> list[str]:
    """Video figures on the same clips re-encoded (`training.robustness`)."""
    lines = [
        "", "## Robustness to re-encoding", "",
        f"The videos of `{r.get('dir')}` re-encoded as sites re-encode uploads (H.264 through "
        f"FFmpeg), analysed as the originals are; {r.get('clips')} clips scored in every "
        f"variant ({r.get('left_out')} left out: no face found, or unreadable, in one of them). "
        "The difference is paired (the same clips on both sides, 2,000 bootstrap resamples); "
        "the last three columns use the version's video band. Reported, never tuned on.", "",
        "| variant | AUC (95% interval) | difference from the originals (95% interval) | ECE | "
        "fakes called real | reals called fake | uncertain |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, f in (r.get("variants") or {}).items():
        d = f.get("auc_difference")
        diff = (f"{d['difference']:+.3f} ({d['ci95'][0]:+.3f} to {d['ci95'][1]:+.3f})"
                if d else "")
        label = "original" if name == "original" else f"{name}: {f.get('label', '')}"
        lines.append(f"| {label} | {auc_text(f)} | {diff} | {_fmt(f.get('ece'))} | "
                     f"{_pct(f.get('fakes_called_real'))} | {_pct(f.get('reals_called_fake'))} "
                     f"| {_pct(f.get('uncertain_rate'))} |")
    return lines


def render(spec: ModelSpec, card_dir: str | Path | None = None) -> str:
    """The card's Markdown. `card_dir`: where the card is written, so image links resolve."""
    m = spec.metrics
    training = m.get("training", {})
    serving = m.get("serving") or {}
    lines = [
        f"# Model card: {spec.name} v{spec.version}",
        "",
        f"- Architecture: `{spec.architecture}`, input {spec.input_size}x{spec.input_size}x"
        f"{spec.channels} ({'grayscale' if spec.channels == 1 else 'RGB'}), face margin "
        f"{spec.face_margin} of the face box on each side.",
        f"- Weights: `{spec.weights_file}`; trained {spec.trained_at}.",
    ]
    fidelity = serving.get("fidelity") or {}
    if is_quantized(spec):
        lines.append(
            f"- Served as `{spec.serving_file or serving.get('file')}` (int8 LiteRT conversion, "
            f"ranges from {serving.get('representative')}; calibrated on its own scores). On "
            f"{fidelity.get('held_out_faces')} held-out faces its logits correlate "
            f"{_fmt4(fidelity.get('logit_correlation'))} with the float model's "
            f"(median change "
            f"{_fmt(fidelity.get('median_abs_logit_change'))}, largest "
            f"{_fmt(fidelity.get('max_abs_logit_change'))}); held-out AUC "
            f"{_fmt(fidelity.get('held_out_auc_float'))} float, "
            f"{_fmt(fidelity.get('held_out_auc_int8'))} int8.")
    elif spec.serving_file or serving.get("file"):
        lines.append(f"- Served as `{spec.serving_file or serving.get('file')}` (float32 LiteRT "
                     f"conversion; largest score difference from the Keras model "
                     f"{serving.get('max_abs_diff', float('nan')):.1e}).")
    lines.append("- Scoring: " + ("each face and its mirror image, logits averaged" if
                                  spec.test_time_flip else "each face once")
                 + "; a person's probability is " + (
                     "their faces' mean logit through the video calibration"
                     if spec.has_video_calibration else
                     "the calibrated mean logit of their faces" if spec.person_pooling ==
                     "mean_logit" else "the mean calibrated probability of their faces") + ".")
    lines += [
        f"- Calibration: Platt scaling p = sigmoid({spec.calibration_a:.4f} * logit(raw) + "
        f"{spec.calibration_b:.4f}), fitted on a held-out {training.get('images_calibration')} "
        "training crops (never on the validation sets below).",
    ]
    video_cal = m.get("video_calibration") or {}
    if spec.has_video_calibration:
        lines.append(
            f"- Video calibration (people and videos): p = sigmoid("
            f"{spec.video_calibration_a:.4f} * mean logit + {spec.video_calibration_b:.4f}), "
            f"fitted class-balanced on {_fmt(video_cal.get('n'))} labelled videos in "
            f"`{video_cal.get('dir')}` (see Video calibration below).")
    if spec.video_band != (spec.uncertain_low, spec.uncertain_high):
        low, high = spec.video_band
        lines.append(
            f"- Decision: a face is fake if p >= {spec.uncertain_high}, real if p < "
            f"{spec.uncertain_low}; a video is fake if p >= {high}, real if p < {low}; "
            f"uncertain in between; accuracy figures use the single cut p >= "
            f"{spec.fake_threshold}.")
    else:
        lines.append(
            f"- Decision: fake if p >= {spec.uncertain_high}, real if p < {spec.uncertain_low}, "
            f"uncertain in between; accuracy figures use the single cut p >= "
            f"{spec.fake_threshold}.")
    if training:
        lines += [
            "",
            "## Training",
            "",
        ]
        if training.get("samples_seen"):  # a time-budgeted run (parallel_train), no epochs
            lines += [
                f"- Data: `{training.get('train_dir')}`; every sample made fresh (self-blended, "
                "degraded) from the faces below.",
                f"- Run: {training.get('samples_seen')} samples in {training.get('train_seconds')}"
                f" s ({training.get('samples_per_second')}/s)"
                + (f" on {training['trained_on']}" if training.get("trained_on") else "") + ", "
                f"Keras on {training.get('backend')}; batch {training.get('batch_size')}, Adam, "
                f"peak lr {training.get('learning_rate')}, {training.get('schedule')}.",
            ]
            if training.get("recipe"):
                lines.append(f"- Command: `{training['recipe']}`.")
            if training.get("note"):
                lines.append(f"- {training['note']}")
        else:
            lines += [
                f"- Data: `{training.get('train_dir')}` ({training.get('images_fit')} crops "
                "fitted).",
                f"- Epochs: {training.get('epochs_run')} run of at most "
                f"{training.get('epochs_max')} (early stopping on held-out AUC), batch "
                f"{training.get('batch_size')}, Adam lr {training.get('learning_rate')}, seed "
                f"{training.get('seed')}.",
            ]
        if training.get("faces_per_source"):
            lines.append("- Faces found per source (before the held-out split): " + ", ".join(
                f"{k} {v}" for k, v in training["faces_per_source"].items()) + ".")
        if training.get("real_pools"):
            pools = ", ".join(f"`{p}`" for p in training["real_pools"])
            lines.append(f"- Real-face pools for self-blended fakes: {pools}; self-blended share "
                         f"of the fakes: {training.get('self_blended_share_of_fakes')}.")
        if training.get("init_weights"):
            lines.append(f"- Initial weights: {training['init_weights']}; frozen first blocks: "
                         f"{training.get('frozen_blocks')}.")
        history = training.get("history") or {}
        if history.get("loss") and history.get("samples"):
            lines.append("- Training loss by samples seen: " + ", ".join(
                f"{n // 1000}k {v:.3f}" for n, v in zip(history["samples"][::4],
                                                       history["loss"][::4])) + ".")
        if history.get("val_auc"):
            lines.append("- Held-out AUC per epoch: "
                         + ", ".join(f"{v:.3f}" for v in history["val_auc"]) + ".")
    lines += [
        "",
        "## Results (data the model never trained on)",
        "",
        "| set | level | n | AUC (95% interval) | accuracy | ECE | uncertain | "
        "accuracy when decided |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for key, level in (("frames", "frame"), ("videos", "video")):
        block = m.get(key)
        if not block:
            continue
        o = block.get("overall", block)
        # A calibration fitted on the set makes its accuracy and ECE in-sample: say so.
        fitted_here = (key == "videos" and spec.has_video_calibration
                       and video_cal.get("dir") == block.get("dir"))
        lines.append(f"| `{block.get('dir', '')}`"
                     + (" (video calibration fitted here: accuracy, ECE and uncertain share "
                        "in-sample)" if fitted_here else "")
                     + f" | {level} | {_fmt(o.get('n'))} | "
                     f"{auc_text(o)} | {_fmt(o.get('accuracy'))} | {_fmt(o.get('ece'))} | "
                     f"{_pct(o.get('uncertain_rate'))} | {_fmt(o.get('accuracy_decided'))} |")
    for key, level in (("frames", "Frame"), ("videos", "Video")):
        block = m.get(key)
        if not block:
            continue
        o = block.get("overall", block)
        lines += ["", f"### {level} level: `{block.get('dir', '')}`"]
        if key == "videos":
            if block.get("protocol"):
                lines += ["", f"Protocol: {block['protocol']}."]
            lines += ["", f"No face found in {_fmt(o.get('no_face'))} of {_fmt(o.get('n'))} "
                          f"videos; {_fmt(o.get('errors'))} could not be decoded (both count "
                          "as 0.5 for AUC and accuracy)."]
            if spec.has_video_calibration and video_cal.get("dir") == block.get("dir"):
                lines += ["", "The video calibration and band were fitted on these videos: "
                              "their accuracy, ECE and uncertain share here are in-sample (the "
                              "AUC is not affected by a calibration). The leave-one-out "
                              "figures are under Video calibration."]
        elif o.get("unreadable"):
            lines += ["", f"{o['unreadable']} images could not be read."]
        lines += _breakdown("By path component (method, compression, source), each against "
                            "all items of the other class", block.get("by_component") or {},
                            key == "videos")
        lines += _breakdown("By subfolder", block.get("by_group") or {}, key == "videos")
        lines += _reliability(block)
        images = block.get("images") or {}
        if card_dir is not None:
            for label, rel in images.items():
                if (Path(card_dir) / rel).is_file():
                    lines += ["", f"![{label}]({rel})"]
    if video_cal:
        lines += _video_calibration(video_cal)
    if m.get("robustness"):
        lines += _robustness(m["robustness"])
    if spec.notes:
        lines += ["", "## Notes", "", spec.notes]
    return "\n".join(lines) + "\n"


def write_card(spec: ModelSpec, spec_path: Path) -> Path:
    """Render the card of `spec` beside its spec file (same name, .md)."""
    card = Path(spec_path).with_suffix(".md")
    card.write_text(render(spec, card_dir=card.parent))
    return card
