"""Render a model card (Markdown) from a spec and its evaluation reports.

The layout is the template `model_card.md.j2` beside this file; this module hands it the
spec's figures and the formatting filters.

Everything in the card comes from the spec's `metrics`, which the training run and
`manage.py evaluate_model --write-card` fill in; figures are never typed by hand.
"""

from __future__ import annotations

from pathlib import Path

import jinja2

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


_ENV = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent),
    autoescape=False,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
    undefined=jinja2.ChainableUndefined,
)
_ENV.filters.update(
    fmt=_fmt, fmt4=_fmt4, pct=_pct, auc_text=auc_text, f=format, code=lambda text: f"`{text}`"
)
TEMPLATE = "model_card.md.j2"


def render(spec: ModelSpec, card_dir: str | Path | None = None) -> str:
    """The card's Markdown. `card_dir`: where the card is written, so image links resolve."""
    m = spec.metrics
    training = m.get("training", {})
    serving = spec.serving
    history = training.get("history") or {}
    return _ENV.get_template(TEMPLATE).render(
        spec=spec,
        m=m,
        training=training,
        serving=serving,
        history=history,
        fidelity=serving.get("fidelity") or {},
        quantized=is_quantized(spec),
        video_cal=m.get("video_calibration") or {},
        robustness=m.get("robustness"),
        loss_by_samples=", ".join(
            f"{n // 1000}k {v:.3f}"
            for n, v in zip(history.get("samples", [])[::4], history.get("loss", [])[::4])
        ),
        image_exists=lambda rel: card_dir is not None and (Path(card_dir) / rel).is_file(),
        nan=float("nan"),
    )


def write_card(spec: ModelSpec, spec_path: Path) -> Path:
    """Render the card of `spec` beside its spec file (same name, .md)."""
    card = Path(spec_path).with_suffix(".md")
    card.write_text(render(spec, card_dir=card.parent))
    return card
