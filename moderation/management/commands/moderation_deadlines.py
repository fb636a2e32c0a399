from django.core.management.base import BaseCommand

from moderation.services import deadlines_schedule_install, review_items_escalate_overdue


class Command(BaseCommand):
    help = (
        "Escalate review items past their deadline to the senior moderators and tell them. "
        "With --install-schedule, make the worker run this every minute instead "
        "(`make run` does)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--install-schedule",
            action="store_true",
            help="create or update the worker's every-minute schedule and exit",
        )

    def handle(self, *args, install_schedule=False, **options):
        if install_schedule:
            schedule = deadlines_schedule_install()
            self.stdout.write(
                f"the worker checks review deadlines every {schedule.minutes} "
                f"minute(s) (schedule {schedule.name!r})"
            )
            return
        ids = review_items_escalate_overdue()
        self.stdout.write(
            f"{len(ids)} item(s) past their deadline escalated or reported"
            + (f": {', '.join(map(str, ids))}" if ids else "")
        )
