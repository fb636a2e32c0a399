"""Train, evaluate on held-out data, record the figures in the spec, write the model card."""
from __future__ import annotations

from pathlib import Path

from detection.pipeline.spec import ModelSpec

from . import model_card
from .evaluate import evaluate_frames, evaluate_videos, load_analyser, video_protocol
from .train import TrainConfig, TrainReport, train_model

__all__ = ["evaluate_into_spec", "train_and_evaluate", "video_protocol", "write_card"]


def write_card(spec: ModelSpec, spec_path: Path) -> Path:
    card = Path(spec_path).with_suffix(".md")
    card.write_text(model_card.render(spec, card_dir=card.parent))
    return card


def evaluate_into_spec(spec_path: Path, *, val_dir: Path | None, videos_dir: Path | None,
                       progress: bool = True, cut_faces: bool = True) -> ModelSpec:
    analyser = load_analyser(spec_path)
    spec = analyser.spec
    found = dict(spec.metrics)
    if val_dir:
        frames = evaluate_frames(analyser, val_dir, progress=progress, cut_faces=cut_faces)
        found["frames"] = {"dir": str(val_dir),
                           **{k: v for k, v in frames.items() if k != "roc"}}
    if videos_dir:
        report = evaluate_videos(analyser, videos_dir, progress=progress)
        found["videos"] = {"dir": str(videos_dir),
                           **{k: v for k, v in report.items() if k not in {"roc", "videos"}},
                           "protocol": video_protocol(analyser)}
    spec = ModelSpec.from_dict({**spec.to_dict(), "metrics": found})
    spec.save(spec_path)
    write_card(spec, spec_path)
    return spec


def train_and_evaluate(config: TrainConfig, videos_dir: Path | None = None,
                       cut_faces: bool = True) -> TrainReport:
    report = train_model(config)
    report.spec = evaluate_into_spec(report.spec_path, val_dir=config.val_dir,
                                     videos_dir=videos_dir, progress=config.progress,
                                     cut_faces=cut_faces)
    return report
