from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from detection.archive import model_archive_write
from detection.models import ModelVersion
from detection.selectors import model_version_named


def version_named(label: str) -> ModelVersion:
    """NAME:VERSION (e.g. lite0_sbi:5) -> the registered version, or CommandError (for the
    commands that name a version)."""
    try:
        version = model_version_named(label)
    except ValueError as exc:
        raise CommandError(str(exc)) from exc
    if version is None:
        raise CommandError(f"no registered version {label}")
    return version


class Command(BaseCommand):
    help = (
        "Write a model version's archive (weights, spec and card in one .tar.gz, every file's "
        "SHA-256 in its manifest), to keep a version whose weights leave the repository."
    )

    def add_arguments(self, parser):
        parser.add_argument("version", help="NAME:VERSION, e.g. lite0_sbi:5")
        parser.add_argument(
            "--out", default=".", help="the archive file, or a folder (default: here)"
        )

    def handle(self, *args, version, out, **options):
        model_version = version_named(version)
        try:
            path = model_archive_write(model_version=model_version, out=out)
        except (OSError, ValidationError) as exc:
            raise CommandError(f"Cannot export {model_version}: {exc}") from exc
        self.stdout.write(self.style.SUCCESS(f"wrote {path}"))
