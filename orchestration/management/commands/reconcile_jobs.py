from django.core.management.base import BaseCommand

from orchestration.reconcile import jobs_reconcile


class Command(BaseCommand):
    help = (
        "Queue again jobs lost by a killed cluster, give jobs whose worker died another "
        "attempt (or fail them after the last), as the side cluster's schedule does."
    )

    def handle(self, *args, **options):
        counts = jobs_reconcile()
        self.stdout.write(" ".join(f"{key}={value}" for key, value in counts.items()))
