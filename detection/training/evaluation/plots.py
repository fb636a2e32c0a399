"""PNG figures for evaluation reports: ROC curves and reliability diagrams.

matplotlib with the Agg backend: no display, no GUI toolkit, safe in a worker or over SSH.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # before pyplot is imported: never try to open a window
import matplotlib.pyplot as plt  # noqa: E402


def save_roc(path: Path, curves: dict[str, dict], title: str) -> Path:
    """`curves`: label -> {"fpr": [...], "tpr": [...], "auc": float | None}."""
    fig, ax = plt.subplots(figsize=(5, 5), dpi=100)
    ax.plot([0, 1], [0, 1], ls="--", color="0.6", lw=1, label="chance")
    for label, curve in curves.items():
        if not curve or not curve.get("fpr"):
            continue
        auc = curve.get("auc")
        ax.plot(
            curve["fpr"],
            curve["tpr"],
            lw=2 if label == "all" else 1,
            label=f"{label} (AUC {auc:.3f})" if auc is not None else label,
        )
    ax.set(
        xlim=(0, 1),
        ylim=(0, 1.01),
        xlabel="false positive rate (real called fake)",
        ylabel="true positive rate (fake caught)",
        title=title,
    )
    ax.legend(loc="lower right", fontsize=7)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def save_reliability(path: Path, bins: list[dict], ece: float | None, title: str) -> Path:
    """Observed fake rate against mean predicted probability per bin, with bin counts below."""
    fig, (top, bottom) = plt.subplots(
        2, 1, figsize=(5, 6), dpi=100, sharex=True, gridspec_kw={"height_ratios": [3, 1]}
    )
    top.plot([0, 1], [0, 1], ls="--", color="0.6", lw=1, label="perfectly calibrated")
    used = [b for b in bins if b["count"]]
    if used:
        top.plot(
            [b["mean_probability"] for b in used],
            [b["fake_rate"] for b in used],
            marker="o",
            lw=2,
            label="this model",
        )
    width = bins[0]["high"] - bins[0]["low"] if bins else 0.1
    top.bar(
        [b["low"] for b in bins],
        [b["fake_rate"] if b["count"] else 0 for b in bins],
        width=width,
        align="edge",
        alpha=0.15,
        edgecolor="0.5",
    )
    top.set(
        xlim=(0, 1),
        ylim=(0, 1.01),
        ylabel="observed share of fakes",
        title=f"{title}" + (f" (ECE {ece:.3f})" if ece is not None else ""),
    )
    top.legend(loc="upper left", fontsize=8)
    top.grid(alpha=0.3)
    bottom.bar(
        [b["low"] for b in bins], [b["count"] for b in bins], width=width, align="edge", color="0.5"
    )
    bottom.set(xlabel="predicted fake probability", ylabel="count")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
