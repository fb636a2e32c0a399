from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from detection.management.commands.export_model import version_named
from detection.selectors import model_version_active
from detection.training.evaluation.calibration import MIN_PER_CLASS
from detection.training.evaluation.decisions import describe
from moderation.selectors import calibration_from_decisions
from moderation.services import model_version_calibrate_from_decisions


class Command(BaseCommand):
    help = (
        "Refit a model version's video calibration and band on the site's decided items "
        "(confirmed fake, judged real) and write it as a new candidate version, to go through "
        "shadow and promotion like any other."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--model", help="NAME:VERSION, e.g. lite0_fusion:1 (default: the active version)"
        )
        parser.add_argument(
            "--max-miss",
            type=float,
            default=0.1,
            help="largest share of confirmed fakes the band may call real (default 0.1)",
        )
        parser.add_argument(
            "--max-false-flag",
            type=float,
            default=0.1,
            help="largest share of judged reals the band may call fake (default 0.1)",
        )
        parser.add_argument(
            "--min-per-class",
            type=int,
            default=MIN_PER_CLASS,
            help=f"fewest decided items of each class to fit on (default {MIN_PER_CLASS})",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="print the figures and write nothing"
        )

    def handle(self, *args, model, max_miss, max_false_flag, min_per_class, dry_run, **options):
        for name, share in (("--max-miss", max_miss), ("--max-false-flag", max_false_flag)):
            if not 0 <= share < 1:
                raise CommandError(f"{name} is a share of items, from 0 to under 1")
        version = version_named(model) if model else model_version_active()
        if version is None:
            raise CommandError("no active version: name one with --model NAME:VERSION")
        limits = dict(max_miss=max_miss, max_false_flag=max_false_flag, min_per_class=min_per_class)
        try:
            if dry_run:
                fit = calibration_from_decisions(version, **limits)
            else:
                new, fit = model_version_calibrate_from_decisions(model_version=version, **limits)
        except ValueError as exc:
            raise CommandError(
                f"Cannot calibrate {version.name} v{version.version}: {exc}"
            ) from exc
        except ValidationError as exc:
            raise CommandError(
                f"Cannot calibrate {version.name} v{version.version}: {' '.join(exc.messages)}"
            ) from exc
        self.stdout.write(f"{version.name} v{version.version}: " + describe(fit))
        if dry_run:
            self.stdout.write("dry run: nothing written")
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"wrote {new.name} v{new.version}, a candidate derived from v{version.version}: "
                "it serves nothing until it goes through shadow and promotion"
            )
        )
