import shutil
from dataclasses import replace
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from detection.pipeline.errors import ModelLoadError
from detection.pipeline.spec import ModelSpec


class Command(BaseCommand):
    help = (
        "Evaluate a model on any folder with real/ and fake/ somewhere in its paths: images "
        "give frame-level figures, videos video-level ones (both if both are there). Writes a "
        "JSON report, ROC curves and reliability diagrams (PNG); --write-card stores the "
        "figures in the model's spec and re-renders its model card."
    )
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("--data", type=Path, required=True, help="labelled folder")
        parser.add_argument(
            "--model",
            type=Path,
            help="a model's .json spec (default: the shipped model, DETECTION_DEFAULT_MODEL_SPEC)",
        )
        parser.add_argument(
            "--out", type=Path, help="report folder (default var/evaluation/<model>/<data folder>)"
        )
        parser.add_argument(
            "--write-card",
            action="store_true",
            help="store the figures in the spec and re-render the model card",
        )
        parser.add_argument(
            "--backend",
            choices=["auto", "litert", "keras"],
            default="auto",
            help="auto: the LiteRT conversion when there is one, as the worker",
        )
        parser.add_argument("--frames", type=int, help="frames to sample per video")
        parser.add_argument(
            "--crops-as-is",
            action="store_true",
            help="score labelled images as they are (already the model's crops) "
            "instead of cutting the face out as the pipeline does",
        )
        parser.add_argument(
            "--detector",
            choices=["blazeface", "haar"],
            help="face detector (default: DETECTION_FACE_DETECTOR)",
        )
        parser.add_argument(
            "--full-look-every",
            type=int,
            metavar="N",
            help="search whole frames for faces at least every N sampled frames, "
            "looking only around known faces in between; 1: every frame "
            "(default: DETECTION_FULL_LOOK_EVERY)",
        )

    def handle(self, *args, **o):
        from detection.model_cache import analysis_config
        from detection.training.evaluation.evaluate import (
            evaluate_folder,
            load_analyser,
            spec_metrics,
        )
        from detection.training.report.model_card import write_card

        data, spec_path = o["data"], o["model"] or Path(settings.DETECTION_DEFAULT_MODEL_SPEC)
        if not data.is_dir():
            raise CommandError(f"The data folder does not exist: {data}")
        if not spec_path.is_file():
            raise CommandError(f"No model spec at {spec_path}")
        config = analysis_config()
        if o["frames"]:
            config = replace(config, frames_to_sample=o["frames"])
        if o["detector"]:
            config = replace(config, face_detector=o["detector"])
        if o["full_look_every"]:
            config = replace(config, full_look_every=max(1, o["full_look_every"]))
        out = o["out"] or (
            Path(settings.BASE_DIR)
            / "var"
            / "evaluation"
            / spec_path.stem
            / (data.resolve().name or "data")
        )
        # Recorded as given: a relative path (../shared/data/...) keeps a committed card free
        # of one machine's absolute paths; an absolute one is kept exact.
        label = str(data)
        try:
            analyser = load_analyser(spec_path, config=config, prefer=o["backend"])
            report = evaluate_folder(
                analyser,
                data,
                out_dir=out,
                label=label,
                progress=o["verbosity"] > 0,
                cut_faces=not o["crops_as_is"],
            )
        except (ValueError, FileNotFoundError, ModelLoadError) as exc:
            raise CommandError(str(exc)) from exc

        for level in ("frames", "videos"):
            block = report.get(level)
            if not block:
                continue
            overall = block.get("overall", block)
            self.stdout.write(
                f"{level[:-1]} level: n={overall['n']} AUC={_f(overall['auc'])}{_ci(overall)} "
                f"accuracy={_f(overall['accuracy'])} ECE={_f(overall['ece'])} "
                f"uncertain={_f(overall.get('uncertain_rate'))}"
                + (
                    f" no_face={overall['no_face']} errors={overall['errors']}"
                    if level == "videos"
                    else ""
                )
            )
            for name, b in block["by_component"].items():
                self.stdout.write(
                    f"  {name:<28} n={b['n']:<5} AUC={_f(b['auc'])}{_ci(b)} "
                    f"accuracy={_f(b['accuracy'])}"
                )
        self.stdout.write(f"report: {out / 'report.json'}")

        if o["write_card"]:
            spec = ModelSpec.load(spec_path)
            found = spec_metrics(report)
            for level, block in found.items():
                # The figures travel with the card: copy them beside it.
                block["images"] = {}
                for kind in ("roc", "reliability"):
                    name = report["images"].get(f"{level}_{kind}")
                    if name:
                        target = spec_path.parent / f"{spec_path.stem}.{level}_{kind}.png"
                        shutil.copyfile(out / name, target)
                        block["images"][kind] = target.name
            spec = replace(spec, metrics={**spec.metrics, **found})
            spec.save(spec_path)
            card = write_card(spec, spec_path)
            self.stdout.write(self.style.SUCCESS(f"updated {spec_path} and {card}"))


def _f(value) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _ci(block: dict) -> str:
    """' (95% 0.69-0.91)': the AUC's bootstrap interval, when it has one."""
    interval = block.get("auc_ci95")
    return f" (95% {interval[0]:.2f}-{interval[1]:.2f})" if interval else ""
