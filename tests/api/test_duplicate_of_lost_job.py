"""A duplicate upload of a job that was lost (queued, no broker message) gets it analysed."""

import datetime as dt
from unittest import mock

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from detection.models import AnalysisJob
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

VIDEO_BYTES = b"\x00\x00\x00\x18ftypmp42 a clip lost by a killed cluster"


def _post(client):
    return client.post(
        reverse("api:video-upload"),
        {"file": SimpleUploadedFile("c.mp4", VIDEO_BYTES)},
        format="multipart",
    )


def test_a_duplicate_of_a_lost_job_queues_it_again(settings, django_capture_on_commit_callbacks):
    client = APIClient()
    client.force_authenticate(UserFactory(username="alice"))
    with (
        mock.patch("detection.services.job_enqueue") as enqueue,
        django_capture_on_commit_callbacks(execute=True),
    ):
        first = _post(client).json()["job"]["id"]
    assert enqueue.call_count == 1
    # Its message was lost with the cluster that held it (no OrmQ row: job_enqueue was mocked).
    AnalysisJob.objects.filter(id=first).update(
        enqueued_at=timezone.now() - dt.timedelta(seconds=settings.DETECTION_QUEUE_GRACE_S + 1)
    )
    with (
        mock.patch("detection.services.job_enqueue") as enqueue,
        django_capture_on_commit_callbacks(execute=True),
    ):
        again = _post(client)
    assert again.status_code == 200 and again.json()["job"]["id"] == first
    enqueue.assert_called_once_with(job_id=AnalysisJob.objects.get(id=first).id)


def test_a_duplicate_of_a_job_still_waiting_in_the_broker_is_not_sent_twice(
    settings, django_capture_on_commit_callbacks
):
    client = APIClient()
    client.force_authenticate(UserFactory(username="alice"))
    with django_capture_on_commit_callbacks(execute=True):
        first = _post(client).json()["job"]["id"]  # a real message in the ORM broker
    AnalysisJob.objects.filter(id=first).update(  # a long queue: old, but still waiting
        enqueued_at=timezone.now() - dt.timedelta(seconds=settings.DETECTION_QUEUE_GRACE_S + 1)
    )
    with (
        mock.patch("detection.services.job_enqueue") as enqueue,
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert _post(client).status_code == 200
    enqueue.assert_not_called()
