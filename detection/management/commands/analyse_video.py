import json
import sys
import time
from dataclasses import asdict, replace
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from detection.model_cache import analyser_for_spec, analysis_config, default_spec
from detection.pipeline.errors import PipelineError
from detection.pipeline.spec import ModelSpec


def _database_exists() -> bool:
    # Connecting to SQLite creates an empty file: look first, so a fresh checkout stays untouched.
    db = settings.DATABASES["default"]
    return "sqlite" not in db["ENGINE"] or Path(db["NAME"]).is_file()


class Command(BaseCommand):
    help = (
        "Analyse video files without the web server. Uses --model, else the database's active "
        "model version, else the model shipped in the repository. Writes nothing."
    )
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", help="video files")
        parser.add_argument("--json", action="store_true", help="one JSON object per line")
        parser.add_argument("--model", help="a model's .json spec file")
        parser.add_argument("--frames", type=int, help="frames to sample per video")
        parser.add_argument(
            "--profile",
            choices=["default", "thorough"],
            default="default",
            help="speed profile (default: default, within 1.5x the decode time)",
        )
        parser.add_argument(
            "--detector",
            choices=["blazeface", "haar"],
            help="face detector (default: DETECTION_FACE_DETECTOR)",
        )

    def _spec(self, model: str | None) -> tuple[ModelSpec, str]:
        if model:
            path = Path(model)
            if not path.is_file():
                raise CommandError(f"No model spec at {path}")
            spec = ModelSpec.load(path)
            return replace(spec, weights_file=str(spec.weights_path(path))), str(path)
        if _database_exists():
            from detection.selectors import model_version_active_or_none_safely

            version = model_version_active_or_none_safely()
            if version is not None:
                return version.to_spec(), f"database: {version}"
        return default_spec(), str(settings.DETECTION_DEFAULT_MODEL_SPEC)

    def handle(self, *args, paths, model, frames, detector, profile, **options):
        as_json = options["json"]
        spec, source = self._spec(model)
        config = analysis_config(profile)
        if frames:
            config = replace(config, frames_to_sample=frames)
        if detector:
            config = replace(config, face_detector=detector)
        try:
            analyser = analyser_for_spec(spec, config)
        except PipelineError as exc:
            raise CommandError(str(exc)) from exc
        if not as_json:
            self.stdout.write(f"model: {spec.name} v{spec.version} ({source})")
            self.stdout.write(f"{'verdict':<10} {'p(fake)':>7} {'faces':>9} {'seconds':>7}  path")
        failures = 0
        for path in paths:
            row = self._analyse(analyser, path)
            failures += row["verdict"] == "error"
            if as_json:
                self.stdout.write(json.dumps(row))
                self.stdout.flush()
            else:
                p = "-" if row["fake_probability"] is None else f"{row['fake_probability']:.3f}"
                faces = f"{row['frames_with_face']}/{row['frames_sampled']}"
                tail = f"  ({row['error']})" if row.get("error") else ""
                self.stdout.write(
                    f"{row['verdict']:<10} {p:>7} {faces:>9} {row['seconds']:>7.2f}  {path}{tail}"
                )
        if failures:
            sys.exit(1)

    def _analyse(self, analyser, path: str) -> dict:
        started = time.perf_counter()
        base = {"path": path, "model": f"{analyser.spec.name} v{analyser.spec.version}"}
        try:
            result = analyser.analyse(path)
        except PipelineError as exc:
            return {
                **base,
                "verdict": "error",
                "fake_probability": None,
                "faces_found": 0,
                "frames_with_face": 0,
                "frames_sampled": 0,
                "seconds": round(time.perf_counter() - started, 3),
                "error": str(exc),
                "error_code": exc.code,
            }
        except Exception as exc:  # one bad file never stops the others
            return {
                **base,
                "verdict": "error",
                "fake_probability": None,
                "faces_found": 0,
                "frames_with_face": 0,
                "frames_sampled": 0,
                "seconds": round(time.perf_counter() - started, 3),
                "error": f"Internal error: {exc.__class__.__name__}: {exc}",
                "error_code": "internal_error",
            }
        return {
            **base,
            "verdict": result.verdict,
            "fake_probability": (
                None if result.fake_probability is None else round(result.fake_probability, 4)
            ),
            "faces_found": result.faces_scored,
            "frames_with_face": result.frames_with_face,
            "frames_sampled": result.frames_sampled,
            "seconds": round(time.perf_counter() - started, 3),
            "error": None,
            "duration_s": result.info.duration_s,
            "resolution": f"{result.info.width}x{result.info.height}",
            "timings": result.timings,
            "persons": [
                {
                    "person": p.index,
                    "fake_probability": round(p.fake_probability, 4),
                    "frames_seen": p.frames_seen,
                    "counts_for_video": p.counts_for_video,
                    "branches": p.branches,
                    "segments": [asdict(g) for g in p.segments],
                }
                for p in result.persons
            ],
            "profile": result.profile,
            "reasons": [asdict(r) for r in result.reasons],
            "frame_scores": [
                {
                    "frame": f.index,
                    "t": f.timestamp_s,
                    "p": None if f.fake_probability is None else round(f.fake_probability, 4),
                }
                for f in result.frames
            ],
        }
