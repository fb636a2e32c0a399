from django.core.management.base import BaseCommand

from moderation.services import review_items_backfill


class Command(BaseCommand):
    help = "Route finished analyses that have no review item yet (e.g. from before the queue)."

    def handle(self, *args, **options):
        count = review_items_backfill()
        self.stdout.write(f"routed {count} finished job(s) into the review queue")
