"""Telling moderators: new flags, appeals, missed deadlines and assignments.

By e-mail (Django's e-mail backend, to moderators who kept the preference on) and, when
MODERATION_WEBHOOK_URL is set, by a signed webhook through the job webhooks' delivery (same
signature, retries and address checks). Both are sent only once the change has committed.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import send_mass_mail
from django.db import transaction
from django.db.models import Q
from django.urls import reverse

logger = logging.getLogger(__name__)

NEW_FLAG = "review.flagged"
APPEAL = "review.appealed"
DEADLINE_MISSED = "review.deadline_missed"
ASSIGNED = "review.assigned"
ESCALATED = "review.escalated"

SUBJECTS = {
    NEW_FLAG: "New flagged video",
    APPEAL: "New appeal",
    DEADLINE_MISSED: "Missed review deadline: escalated to senior moderators",
    ASSIGNED: "A review item was assigned to you",
    ESCALATED: "A moderator escalated an item to the senior moderators",
}
# Kinds also sent to the moderation webhook (WebhookEvent.Type values).
WEBHOOK_KINDS = (NEW_FLAG, APPEAL, DEADLINE_MISSED)


def recipients(*, kind: str, item) -> list:
    """Who is told: seniors for missed deadlines and escalations; the assignee (person or team) when the item
    is assigned; otherwise every moderator. Never the uploader, never the first decider of an
    appeal, only people with an address who kept the preference on."""
    from accounts.models import Role, User

    users = User.objects.filter(is_active=True, notify_by_email=True).exclude(email="")
    seniors = Q(role__in=[Role.SENIOR_MODERATOR, Role.ADMIN]) | Q(is_superuser=True)
    moderators = Q(role=Role.MODERATOR) | seniors
    if kind in (DEADLINE_MISSED, ESCALATED):
        users = users.filter(seniors)
    elif item.assigned_to_id or item.assigned_team_id:
        assignees = Q(pk__in=[])
        if item.assigned_to_id:
            assignees |= Q(pk=item.assigned_to_id)
        if item.assigned_team_id:
            assignees |= Q(teams=item.assigned_team_id)
        users = users.filter(moderators).filter(assignees).distinct()
    else:
        users = users.filter(moderators)
    users = users.exclude(pk=item.job.video.uploaded_by_id)
    if kind == APPEAL and item.first_decided_by_id:
        users = users.exclude(pk=item.first_decided_by_id)
    if kind == ESCALATED and item.escalated_by_id:
        users = users.exclude(pk=item.escalated_by_id)
    return list(users.order_by("username"))


def _message(kind: str, item) -> tuple[str, str]:
    video = item.job.video
    url = settings.SITE_URL.rstrip("/") + reverse("moderation:item_detail", args=[item.pk])
    subject = f"[Deepfake moderation] {SUBJECTS[kind]}: {video.original_name} ({item.short_id})"
    lines = [
        f"{SUBJECTS[kind]}.",
        "",
        f"Video: {video.original_name} (file {item.short_id})",
        f"State: {item.get_state_display()}",
    ]
    if item.model_score is not None:
        lines.append(f"Model p(fake): {item.model_score:.3f}")
    if item.due_at:
        lines.append(f"Due: {item.due_at.isoformat(timespec='minutes')} (UTC)")
    if kind == APPEAL:
        lines.append(f"Appeal: {item.appeal_message}")
    lines += [
        "",
        f"Open it: {url}",
        "",
        "You get these because your preference 'notify by e-mail' is on.",
    ]
    return subject, "\n".join(lines)


def _send_email(kind: str, item_id: int) -> None:
    from .models import ReviewItem

    item = ReviewItem.objects.select_related("job__video").filter(pk=item_id).first()
    if item is None:
        return
    subject, body = _message(kind, item)
    messages = [
        (subject, body, settings.DEFAULT_FROM_EMAIL, [user.email])
        for user in recipients(kind=kind, item=item)
    ]
    try:
        send_mass_mail(messages, fail_silently=False)
    except Exception:  # a mail server problem must not undo or hide the review change
        logger.exception("could not e-mail the %s notification of review item %s", kind, item_id)


def _webhook_event(kind: str, item) -> None:
    from webhooks.models import WebhookEvent
    from webhooks.services import webhook_enqueue, webhook_payload

    event = WebhookEvent(job=item.job, type=kind, url=settings.MODERATION_WEBHOOK_URL)
    event.payload = webhook_payload(
        job=item.job,
        event_id=event.id,
        event_type=kind,
        data={
            "review": {
                "id": item.pk,
                "state": item.state,
                "due_at": item.due_at.isoformat() if item.due_at else None,
                "url": reverse("moderation:item_detail", args=[item.pk]),
            }
        },
    )
    event.save()
    transaction.on_commit(lambda: webhook_enqueue(event_id=event.id))


def notify(*, kind: str, item) -> None:
    """Queue the notifications of a review change (called inside its transaction)."""
    if kind in WEBHOOK_KINDS and settings.MODERATION_WEBHOOK_URL:
        _webhook_event(kind, item)
    item_id = item.pk
    transaction.on_commit(lambda: _send_email(kind, item_id))
