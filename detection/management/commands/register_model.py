from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from detection.services import model_version_register


class Command(BaseCommand):
    help = "Register a trained model (its .json spec) in the model-version registry."

    def add_arguments(self, parser):
        parser.add_argument("spec", help="path of the model's .json spec file")
        parser.add_argument("--activate", action="store_true", help="make it the active version")

    def handle(self, *args, spec, activate, **options):
        try:
            version = model_version_register(spec_path=spec, activate=activate)
        except (OSError, ValueError, ValidationError) as exc:
            raise CommandError(f"Cannot register {spec}: {exc}") from exc
        self.stdout.write(self.style.SUCCESS(f"registered {version}"))
