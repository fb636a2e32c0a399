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


def shadow_scored(item: ReviewItem, version, probability: float, verdict: str = "") -> ReviewItem:
    """The shadow `version`'s done score of the item's job."""
    from detection.models import JobStatus, ShadowResult

    ShadowResult.objects.create(
        job=item.job,
        model_version=version,
        status=JobStatus.DONE,
        fake_probability=probability,
        verdict=verdict or ("fake" if probability >= 0.5 else "real"),
    )
    return item


def decided_with_shadow(*, uploader, moderator, truth: str, active_p: float, shadow, shadow_p):
    """A routed item of the active version, decided `truth` by a moderator, that `shadow`
    also scored (`shadow_p`)."""
    item = decided(
        routed(
            uploader=uploader, probability=active_p, verdict="fake" if active_p >= 0.5 else "real"
        ),
        moderator,
        truth,
        "artefacts" if truth == "fake" else "no_artefacts",
    )
    return shadow_scored(item, shadow, shadow_p)
