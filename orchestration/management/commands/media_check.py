from django.core.management.base import BaseCommand

from orchestration.media import DEFAULT_GRACE_S, media_audit, media_clean, videos_failed_purge


class Command(BaseCommand):
    help = (
        "Report media files without rows, rows without files and old temporary upload "
        "files; with --delete, remove them and purge failed uploads past their retention."
    )

    def add_arguments(self, parser):
        parser.add_argument("--delete", action="store_true", help="clean what is found")
        parser.add_argument(
            "--grace-seconds",
            type=float,
            default=DEFAULT_GRACE_S,
            help="files younger than this are left alone (uploads in flight)",
        )

    def handle(self, *args, delete, grace_seconds, **options):
        report = media_audit(grace_s=grace_seconds)
        for key, items in vars(report).items():
            self.stdout.write(f"{key}: {len(items)}")
            for item in items[:50]:
                self.stdout.write(f"  {item}")
        if delete:
            media_clean(report)
            purged = videos_failed_purge()
            self.stdout.write(f"cleaned; failed uploads purged: {purged}")
        elif not report.clean:
            self.stdout.write("run with --delete to clean")
