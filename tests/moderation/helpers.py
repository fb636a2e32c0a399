"""Review items as routing leaves them, for moderation tests."""

import datetime as dt

from django.utils import timezone

from moderation import services
from moderation.models import ReviewItem
from tests.factories import done_job


def routed(*, uploader, verdict="fake", probability=0.9, faces=True, **job_fields) -> ReviewItem:
    job = done_job(uploader=uploader, verdict=verdict, probability=probability, faces=faces)
    if job_fields:
        for key, value in job_fields.items():
            setattr(job, key, value)
        job.save(update_fields=list(job_fields))
    return services.review_item_route(job=job)


def decided(item: ReviewItem, moderator, decision="fake", reason="artefacts") -> ReviewItem:
    services.review_item_claim(item_id=item.pk, moderator=moderator)
    return services.review_item_decide(
        item_id=item.pk, moderator=moderator, decision=decision, reason=reason
    )


def later(minutes: float) -> dt.datetime:
    return timezone.now() + dt.timedelta(minutes=minutes)
