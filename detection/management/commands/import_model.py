from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from detection.archive import model_archive_read
from detection.models import ModelState


class Command(BaseCommand):
    help = (
        "Import a model archive (from export_model): restore a registered version's weights "
        "where its record says, or register a version new to this site. Every file is "
        "checked against the SHA-256 its spec pins first."
    )

    def add_arguments(self, parser):
        parser.add_argument("archive", help="the .tar.gz written by export_model")
        parser.add_argument(
            "--shadow",
            action="store_true",
            help="a version new to this site starts in shadow (default: candidate)",
        )

    def handle(self, *args, archive, shadow, **options):
        try:
            result = model_archive_read(path=archive, state=ModelState.SHADOW if shadow else "")
        except (OSError, ValidationError) as exc:
            raise CommandError(f"Cannot import {archive}: {exc}") from exc
        version = result.model_version
        what = "registered" if result.registered else "restored"
        files = ", ".join(result.restored) or "its files were already in place"
        self.stdout.write(
            self.style.SUCCESS(
                f"{what} {version.name} v{version.version} ({version.state}): {files}"
            )
        )
