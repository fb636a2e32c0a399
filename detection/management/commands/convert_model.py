from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from detection.training.export.conversion import ConversionRefused, convert_version


class Command(BaseCommand):
    help = (
        "Convert a model's .keras weights to a float32 LiteRT file (<name>_v<version>.tflite "
        "beside them) for fast serving, check its scores match the Keras model, and record it "
        "in the spec as `serving_file`. The pipeline then serves the .tflite."
    )
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("spec", type=Path, help="the model's .json spec file")
        parser.add_argument(
            "--samples", type=int, default=64, help="random inputs used to compare the two models"
        )

    def handle(self, *args, spec: Path, samples: int, **options):
        try:
            done = convert_version(spec, samples=samples)
        except ConversionRefused as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"{'reused' if done.reused else 'wrote'} {done.path} "
                f"({done.path.stat().st_size / 1e6:.1f} MB); max |keras - litert| = "
                f"{done.max_abs_diff:.1e} on {done.samples} inputs; recorded as serving_file in "
                f"{spec}"
            )
        )
