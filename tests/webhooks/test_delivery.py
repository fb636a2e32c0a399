"""Delivery to a real HTTP receiver on 127.0.0.1: signing, retries, every attempt recorded."""

import datetime as dt
import json
import socket
import time
from unittest import mock

import pytest
from django.conf import settings
from django.core.files import File
from django.urls import reverse
from django.utils import timezone
from django_q.models import Schedule

from detection.models import JobStatus
from orchestration.jobs import job_run, stale_jobs_fail
from tests.factories import PASSWORD, JobFactory, UserFactory, done_job
from webhooks import services
from webhooks import transport as webhooks
from webhooks.models import WebhookDelivery, WebhookEvent
from webhooks.tasks import deliver_webhook

from .receiver import Receiver

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _webhook_settings(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = True  # the receiver is on loopback
    settings.WEBHOOK_ALLOWED_PORTS = []  # any: the receiver listens on a random port
    settings.WEBHOOK_SECRET = "test-secret"
    settings.WEBHOOK_BACKOFF_S = 30
    settings.WEBHOOK_MAX_ATTEMPTS = 3
    settings.WEBHOOK_TIMEOUT_S = 2


def _event(url, **job_fields):
    job = done_job(uploader=JobFactory().video.uploaded_by)
    for key, value in {"callback_url": url, "client_reference": "ref-9", **job_fields}.items():
        setattr(job, key, value)
    job.save()
    with mock.patch("webhooks.services.webhook_enqueue"):
        return services.webhook_job_finished(job=job)


def test_a_delivery_is_signed_and_recorded():
    with Receiver() as receiver:
        event = _event(receiver.url)
        assert deliver_webhook(str(event.id)) == 200
    [request] = receiver.requests
    headers, body = request["headers"], request["body"]
    assert webhooks.signature_verify("test-secret", headers[webhooks.SIGNATURE_HEADER], body)
    assert headers[webhooks.EVENT_ID_HEADER] == str(event.id)
    assert headers[webhooks.EVENT_TYPE_HEADER] == "job.finished"
    assert headers["Content-Type"] == "application/json"
    payload = json.loads(body)
    assert payload["id"] == str(event.id) and payload["type"] == "job.finished"
    assert payload["job"]["id"] == str(event.job_id)
    assert (payload["job"]["status"], payload["job"]["verdict"]) == ("done", "fake")
    assert payload["job"]["client_reference"] == "ref-9"
    event.refresh_from_db()
    assert (event.state, event.attempts) == (WebhookEvent.State.DELIVERED, 1)
    [delivery] = event.deliveries.all()
    assert (delivery.attempt, delivery.status_code, delivery.error) == (1, 200, "")
    assert delivery.response_excerpt == "thanks"
    assert delivery.started_at <= delivery.finished_at == event.delivered_at


def test_a_failed_attempt_is_retried_later_with_the_same_event_id_and_body(
    django_capture_on_commit_callbacks,
):
    with Receiver(statuses=[500]) as receiver:
        event = _event(receiver.url)
        before = timezone.now()
        with (
            mock.patch("webhooks.services.webhook_enqueue") as enqueue,
            django_capture_on_commit_callbacks(execute=True),
        ):
            assert deliver_webhook(str(event.id)) == 500
        event.refresh_from_db()
        assert (event.state, event.attempts) == (WebhookEvent.State.PENDING, 1)
        assert before + dt.timedelta(seconds=30) <= event.next_attempt_at
        enqueue.assert_called_once_with(event_id=event.id, at=event.next_attempt_at)
        time.sleep(1.1)  # a new second: the retry is signed with a fresh timestamp
        assert deliver_webhook(str(event.id)) == 200
    first, second = receiver.requests
    assert first["body"] == second["body"]
    assert (
        first["headers"][webhooks.EVENT_ID_HEADER]
        == second["headers"][webhooks.EVENT_ID_HEADER]
        == str(event.id)
    )
    assert (
        first["headers"][webhooks.SIGNATURE_HEADER] != second["headers"][webhooks.SIGNATURE_HEADER]
    )
    attempts = list(event.deliveries.values_list("attempt", "status_code"))
    assert attempts == [(1, 500), (2, 200)]
    assert "HTTP 500" in event.deliveries.get(attempt=1).error


def test_backoff_doubles_and_the_event_gives_up_after_the_last_attempt():
    assert [services.webhook_backoff_s(attempt=n) for n in (1, 2, 3)] == [30, 60, 120]
    with Receiver(statuses=[503, 503, 503, 503]) as receiver:
        event = _event(receiver.url)
        with mock.patch("webhooks.services.webhook_enqueue"):
            for _ in range(3):
                deliver_webhook(str(event.id))
            assert deliver_webhook(str(event.id)) is None  # nothing left to try
    event.refresh_from_db()
    assert (event.state, event.attempts, event.next_attempt_at) == ("failed", 3, None)
    assert len(receiver.requests) == 3
    assert event.deliveries.count() == 3


def test_the_retry_is_a_one_off_schedule_for_the_worker():
    event = _event("http://127.0.0.1:9/hook")
    at = timezone.now() + dt.timedelta(seconds=30)
    services.webhook_enqueue(event_id=event.id, at=at)
    # (the reconciler's repeating schedule is the other one)
    schedule = Schedule.objects.get(name__startswith=f"webhook-{event.id}")
    assert schedule.cluster == settings.DETECTION_SIDE_QUEUE_NAME  # not behind analyses
    assert schedule.func == "webhooks.tasks.deliver_webhook"
    assert schedule.args == repr((str(event.id),))
    assert schedule.schedule_type == Schedule.ONCE
    assert abs((schedule.next_run - at).total_seconds()) < 1


def test_an_unreachable_receiver_is_recorded_as_an_error():
    with Receiver() as receiver:
        url = receiver.url  # the port is closed once the receiver stops
    event = _event(url)
    with mock.patch("webhooks.services.webhook_enqueue"):
        assert deliver_webhook(str(event.id)) is None
    delivery = WebhookDelivery.objects.get(event=event)
    assert delivery.status_code is None and "refused" in delivery.error.lower()
    event.refresh_from_db()
    assert event.state == WebhookEvent.State.PENDING  # it will be retried


def test_a_slow_receiver_times_out(settings):
    settings.WEBHOOK_TIMEOUT_S = 0.3
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)  # accepts the connection, never answers
    try:
        event = _event(f"http://127.0.0.1:{listener.getsockname()[1]}/hook")
        started = time.monotonic()
        with mock.patch("webhooks.services.webhook_enqueue"):
            deliver_webhook(str(event.id))
        assert time.monotonic() - started < 5
    finally:
        listener.close()
    assert "timed out" in WebhookDelivery.objects.get(event=event).error.lower()


def test_redirects_are_not_followed():
    with Receiver() as target, Receiver(redirect_to=None) as redirector:
        redirector._redirect_to = target.url
        event = _event(redirector.url)
        with mock.patch("webhooks.services.webhook_enqueue"):
            assert deliver_webhook(str(event.id)) == 307
    assert target.requests == []
    assert WebhookDelivery.objects.get(event=event).status_code == 307


def test_the_url_is_checked_again_at_delivery_time(settings):
    with Receiver() as receiver:
        event = _event(receiver.url)
        settings.WEBHOOK_ALLOW_PRIVATE_URLS = False
        with mock.patch("webhooks.services.webhook_enqueue") as enqueue:
            deliver_webhook(str(event.id))
    assert receiver.requests == []
    enqueue.assert_not_called()  # a refused URL is not retried
    event.refresh_from_db()
    assert event.state == WebhookEvent.State.FAILED
    assert "non-public" in event.deliveries.get().error


def test_a_finished_event_is_created_once_per_job():
    event = _event("http://127.0.0.1:9/hook")
    with mock.patch("webhooks.services.webhook_enqueue"):
        again = services.webhook_job_finished(job=event.job)
    assert again == event
    assert WebhookEvent.objects.count() == 1


def test_a_job_without_callback_url_has_no_events():
    job = done_job(uploader=JobFactory().video.uploaded_by)
    assert services.webhook_job_finished(job=job) is None
    assert not WebhookEvent.objects.exists()


def test_a_failed_analysis_enqueues_its_event_after_commit(django_capture_on_commit_callbacks):
    job = JobFactory(callback_url="http://127.0.0.1:9/hook")
    with (
        mock.patch("detection.services.analyser_for_spec", side_effect=MemoryError("boom")),
        mock.patch("webhooks.services.webhook_enqueue") as enqueue,
        django_capture_on_commit_callbacks(execute=True),
    ):
        job_run(job_id=job.id)
    event = WebhookEvent.objects.get(job=job)
    assert event.payload["job"]["status"] == JobStatus.FAILED
    assert event.payload["job"]["error_code"] == "internal_error"
    enqueue.assert_called_once_with(event_id=event.id)


def test_a_finished_analysis_enqueues_its_event(clips, django_capture_on_commit_callbacks):
    job = JobFactory(callback_url="http://127.0.0.1:9/hook")
    with open(clips["no_face"], "rb") as fh:
        job.video.file.save("clip.mp4", File(fh), save=True)
    with (
        mock.patch("webhooks.services.webhook_enqueue") as enqueue,
        django_capture_on_commit_callbacks(execute=True),
    ):
        job_run(job_id=job.id)
    event = WebhookEvent.objects.get(job=job)
    assert (event.payload["job"]["status"], event.payload["job"]["verdict"]) == ("done", "no_face")
    enqueue.assert_called_once_with(event_id=event.id)


def test_a_job_failed_as_stale_gets_its_event(settings):
    job = JobFactory(
        status=JobStatus.RUNNING,
        callback_url="http://127.0.0.1:9/hook",
        started_at=timezone.now() - dt.timedelta(seconds=settings.DETECTION_JOB_TIMEOUT_S + 120),
    )
    with mock.patch("webhooks.services.webhook_enqueue"):
        assert stale_jobs_fail() == 1
    assert WebhookEvent.objects.get(job=job).payload["job"]["error_code"] == "timeout"


def test_admins_see_events_and_attempts_in_the_admin_site(client):
    with Receiver(statuses=[500]) as receiver:
        event = _event(receiver.url)
        with mock.patch("webhooks.services.webhook_enqueue"):
            deliver_webhook(str(event.id))
    UserFactory(username="root", role="admin", is_staff=True, is_superuser=True)
    client.login(username="root", password=PASSWORD)
    page = client.get(reverse("admin:webhooks_webhookevent_change", args=[event.id]))
    assert page.status_code == 200
    assert b"HTTP 500" in page.content
