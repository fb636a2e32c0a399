from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from detection.models import AnalysisJob
from moderation.services import known_answer_seed


class Command(BaseCommand):
    help = (
        "Seed a known-answer item into the review queue: a copy of a finished analysis of a "
        "reference video that the given senior moderator uploaded, with its right answer."
    )

    def add_arguments(self, parser):
        parser.add_argument("job_id", help="the finished analysis (UUID) of the reference video")
        parser.add_argument("answer", choices=["fake", "real"])
        parser.add_argument("--by", required=True, help="username of the senior moderator")

    def handle(self, *args, job_id, answer, by, **options):
        try:
            job = AnalysisJob.objects.select_related("video").get(id=job_id)
            user = User.objects.get(username=by)
            item = known_answer_seed(job=job, answer=answer, by=user)
        except (AnalysisJob.DoesNotExist, User.DoesNotExist, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        except (ValidationError, PermissionDenied) as exc:
            raise CommandError(" ".join(getattr(exc, "messages", [str(exc)]))) from exc
        self.stdout.write(
            f"seeded review item {item.pk} ({item.get_state_display()}), known answer: {answer}"
        )
