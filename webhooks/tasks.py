"""django-q2 entry points: thin, ids in, the service does the work."""

from . import services


def deliver_webhook(event_id: str) -> int | None:
    delivery = services.webhook_deliver(event_id=event_id)
    return delivery.status_code if delivery else None
