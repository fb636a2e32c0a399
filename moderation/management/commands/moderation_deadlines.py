from django.core.management.base import BaseCommand

from moderation.services import review_items_escalate_overdue


class Command(BaseCommand):
    help = ("Escalate review items past their deadline to the senior moderators and tell them "
            "(the worker also runs this every minute).")

    def handle(self, *args, **options):
        ids = review_items_escalate_overdue()
        self.stdout.write(f"{len(ids)} item(s) past their deadline escalated or reported"
                          + (f": {', '.join(map(str, ids))}" if ids else ""))
