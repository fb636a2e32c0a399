"""A worker that stops between storing a result and recording its webhook event must not leave
the client's callback unsent: the next job's start records the missing event."""

import datetime as dt
from unittest import mock

import pytest
from django.utils import timezone

from detection.models import AnalysisJob, JobStatus
from orchestration.jobs import job_run
from tests.factories import JobFactory, done_job
from webhooks import services
from webhooks.models import WebhookEvent

pytestmark = pytest.mark.django_db


def _finished(minutes_ago, callback="https://hooks.example.org/x", status=JobStatus.DONE):
    job = done_job(uploader=JobFactory().video.uploaded_by)
    AnalysisJob.objects.filter(id=job.id).update(
        callback_url=callback,
        status=status,
        finished_at=timezone.now() - dt.timedelta(minutes=minutes_ago),
    )
    return AnalysisJob.objects.get(id=job.id)


def test_a_finished_job_without_its_event_gets_one():
    lost = _finished(5)
    failed = _finished(5, status=JobStatus.FAILED)
    with mock.patch("webhooks.services.webhook_enqueue") as enqueue:
        with mock.patch("django.db.transaction.on_commit", side_effect=lambda f: f()):
            assert services.webhook_job_finished_recover() == 2
    events = WebhookEvent.objects.filter(type=WebhookEvent.Type.JOB_FINISHED)
    assert {e.job_id for e in events} == {lost.id, failed.id}
    assert enqueue.call_count == 2  # and their delivery is queued
    # Idempotent: a second sweep finds nothing more to do.
    assert services.webhook_job_finished_recover() == 0


def test_recent_jobs_jobs_without_callbacks_and_recorded_events_are_left_alone():
    _finished(0)  # its worker may be about to record the event itself
    _finished(5, callback="")
    sent = _finished(5)
    with mock.patch("webhooks.services.webhook_enqueue"):
        services.webhook_job_finished(job=sent)
        assert services.webhook_job_finished_recover() == 0
    assert WebhookEvent.objects.count() == 1


def test_each_job_run_sweeps_first():
    lost = _finished(5)
    with mock.patch("webhooks.services.webhook_enqueue"):
        job_run(job_id=lost.id)  # not queued: nothing to analyse, but the sweep ran
    assert WebhookEvent.objects.filter(job=lost, type=WebhookEvent.Type.JOB_FINISHED).exists()
