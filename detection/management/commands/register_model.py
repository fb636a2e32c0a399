from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from detection.models import ModelState
from detection.services import model_version_register


class Command(BaseCommand):
    help = (
        "Release a model version: register its .json spec (and the card beside it) in the "
        "registry, its files' SHA-256 pinned. No migration, no code change. It starts as a "
        "candidate; shadow it and promote it in the admin."
    )

    def add_arguments(self, parser):
        parser.add_argument("spec", help="path of the model's .json spec file")
        parser.add_argument(
            "--shadow",
            action="store_true",
            help="start it in shadow: it scores new uploads beside the active version",
        )
        parser.add_argument(
            "--activate",
            action="store_true",
            help="make it the active version at once, without a shadow run (a new site's "
            "first model; otherwise promote it in the admin, which records why)",
        )

    def handle(self, *args, spec, shadow, activate, **options):
        if shadow and activate:
            raise CommandError("--shadow and --activate exclude each other")
        state = ModelState.SHADOW if shadow else ""
        try:
            version = model_version_register(spec_path=spec, activate=activate, state=state)
        except (OSError, ValueError, ValidationError) as exc:
            raise CommandError(f"Cannot register {spec}: {exc}") from exc
        self.stdout.write(
            self.style.SUCCESS(f"registered {version.name} v{version.version} ({version.state})")
        )
