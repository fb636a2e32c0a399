"""The reconciler across the apps: its schedule and command, jobs failed after their last
attempt tell their clients, and side work (heatmaps, webhooks) goes to the side queue."""

import datetime as dt
from unittest import mock

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_q.models import OrmQ, Schedule
from django_q.signing import SignedPackage

from detection import services
from detection.models import JobStatus
from orchestration import reconcile as reconciler
from tests.factories import JobFactory
from webhooks.models import WebhookEvent

pytestmark = pytest.mark.django_db


def _messages(key):
    return [SignedPackage.loads(row.payload) for row in OrmQ.objects.filter(key=key)]


def _analysis_message_ids(settings):
    return [
        m["args"][0]
        for m in _messages(settings.DETECTION_QUEUE_NAME)
        if m["func"] == "orchestration.tasks.analyse_job"
    ]


def _ago(seconds):
    return timezone.now() - dt.timedelta(seconds=seconds)


def test_after_its_last_attempt_a_lost_job_fails_with_the_reason(settings):
    settings.DETECTION_JOB_MAX_ATTEMPTS = 2
    job = JobFactory(
        status=JobStatus.RUNNING,
        attempts=2,
        started_at=_ago(300),
        heartbeat_at=_ago(settings.DETECTION_HEARTBEAT_STALE_S + 5),
        callback_url="http://127.0.0.1:9/hook",
    )
    with mock.patch("webhooks.services.webhook_enqueue"):
        assert reconciler.stale_jobs_requeue() == (0, 1)
    job.refresh_from_db()
    assert (job.status, job.error_code) == (JobStatus.FAILED, "worker_lost")
    assert "stopped 2 time(s)" in job.error and job.finished_at is not None
    assert WebhookEvent.objects.get(job=job).payload["job"]["error_code"] == "worker_lost"
    assert OrmQ.objects.filter(key=settings.DETECTION_QUEUE_NAME).count() == 0


def test_the_reconciler_is_a_schedule_on_the_side_cluster_and_a_command(settings, capsys):
    schedule = Schedule.objects.get(name=reconciler.RECONCILE_SCHEDULE_NAME)
    assert schedule.func == "orchestration.tasks.reconcile_jobs"
    assert schedule.schedule_type == Schedule.MINUTES and schedule.repeats == -1
    assert schedule.cluster == settings.DETECTION_SIDE_QUEUE_NAME
    lost = JobFactory(
        status=JobStatus.QUEUED, enqueued_at=_ago(settings.DETECTION_QUEUE_GRACE_S + 5)
    )
    call_command("reconcile_jobs")
    assert "requeued_lost=1" in capsys.readouterr().out
    assert _analysis_message_ids(settings) == [str(lost.id)]


def test_failed_uploads_are_purged_by_a_daily_side_schedule(settings):
    schedule = Schedule.objects.get(name=reconciler.PURGE_SCHEDULE_NAME)
    assert schedule.func == "orchestration.tasks.purge_failed_uploads"
    assert schedule.schedule_type == Schedule.DAILY
    assert schedule.cluster == settings.DETECTION_SIDE_QUEUE_NAME


def test_heatmaps_and_webhooks_go_to_the_side_queue_analyses_to_their_own(settings):
    """Case 12: a heatmap or a slow webhook never stands before an analysis."""
    from moderation.services import heatmaps_enqueue
    from webhooks.services import webhook_enqueue

    job = JobFactory(status=JobStatus.QUEUED)
    services.job_enqueue(job_id=job.id)
    heatmaps_enqueue(job_id=job.id)
    webhook_enqueue(event_id="3f2a0c1e-0000-4000-8000-000000000000")
    main = [m["func"] for m in _messages(settings.DETECTION_QUEUE_NAME)]
    side = sorted(m["func"] for m in _messages(settings.DETECTION_SIDE_QUEUE_NAME))
    assert main == ["orchestration.tasks.analyse_job"]
    assert side == ["moderation.tasks.heatmaps_compute", "webhooks.tasks.deliver_webhook"]
    assert settings.DETECTION_SIDE_QUEUE_NAME in settings.Q_CLUSTER["ALT_CLUSTERS"]
