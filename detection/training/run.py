"""Train, evaluate on held-out data, record the figures in the spec, write the model card."""
from __future__ import annotations

from pathlib import Path

from detection.pipeline.analyse import Analyser
from detection.pipeline.spec import ModelSpec

from . import model_card
from .evaluate import evaluate_frames, evaluate_videos
from .train import TrainConfig, TrainReport, train_model


def video_protocol(analyser: Analyser) -> str:
    return (f"{analyser.config.frames_to_sample} frames sampled evenly, faces by the "
            f"{analyser.detector.name} detector, a frame scores as its most suspicious face, "
            "the video as the mean over frames with a face")


def evaluate_into_spec(spec_path: Path, *, val_dir: Path | None, videos_dir: Path | None,
                       progress: bool = True) -> ModelSpec:
    analyser = Analyser.from_spec_file(spec_path)
    spec = analyser.spec
    found = dict(spec.metrics)
    if val_dir:
        found["frames"] = {"dir": str(val_dir),
                           **evaluate_frames(analyser, val_dir, progress=progress)}
    if videos_dir:
        report = evaluate_videos(analyser, videos_dir, progress=progress)
        found["videos"] = {"dir": str(videos_dir), "overall": report["overall"],
                           "by_group": report["by_group"],
                           "protocol": video_protocol(analyser)}
    spec = ModelSpec.from_dict({**spec.to_dict(), "metrics": found})
    spec.save(spec_path)
    card = spec_path.with_suffix(".md")
    card.write_text(model_card.render(spec))
    return spec


def train_and_evaluate(config: TrainConfig, videos_dir: Path | None = None) -> TrainReport:
    report = train_model(config)
    report.spec = evaluate_into_spec(report.spec_path, val_dir=config.val_dir,
                                     videos_dir=videos_dir, progress=config.progress)
    return report
