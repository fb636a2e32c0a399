"""The reconciler settles shadow scores: a lost message is sent again, a dead run is failed
with its reason (never left "running" forever in a promotion's comparison)."""

import datetime as dt
from unittest import mock

import pytest
from django.utils import timezone

from detection.models import JobStatus, ShadowResult
from detection.reconcile import shadow_results_settle
from tests.factories import UserFactory, done_job, model_version_like_active

pytestmark = pytest.mark.django_db


@pytest.fixture
def shadow():
    return model_version_like_active(version="s", state="shadow")


def _row(shadow, **fields) -> ShadowResult:
    job = done_job(uploader=UserFactory(username="alice"))
    return ShadowResult.objects.create(job=job, model_version=shadow, **fields)


def test_a_shadow_run_whose_worker_died_is_failed_with_the_reason(shadow, settings):
    now = timezone.now()
    long_ago = now - dt.timedelta(seconds=settings.DETECTION_JOB_TIMEOUT_S + 120)
    dead = _row(shadow, status=JobStatus.RUNNING, started_at=long_ago)
    with mock.patch("detection.reconcile.shadow_message_send") as send:
        assert shadow_results_settle(now=now) == (0, 1)
    dead.refresh_from_db()
    assert (dead.status, dead.error_code) == (JobStatus.FAILED, "worker_lost")
    assert "stopped" in dead.error and dead.finished_at == now
    send.assert_not_called()


def test_a_running_shadow_within_the_timeout_is_left_alone(shadow):
    busy = _row(shadow, status=JobStatus.RUNNING, started_at=timezone.now())
    assert shadow_results_settle() == (0, 0)
    busy.refresh_from_db()
    assert busy.status == JobStatus.RUNNING


def test_a_queued_shadow_without_a_broker_message_is_sent_again(shadow, settings):
    now = timezone.now()
    old = now - dt.timedelta(seconds=settings.DETECTION_QUEUE_GRACE_S + 5)
    lost = _row(shadow, status=JobStatus.QUEUED, created_at=old)
    fresh = ShadowResult.objects.create(
        job=done_job(uploader=UserFactory(username="bob")), model_version=shadow
    )
    with mock.patch("detection.reconcile.shadow_message_send") as send:
        assert shadow_results_settle(now=now) == (1, 0)
    send.assert_called_once_with(shadow_result_id=lost.pk)
    fresh.refresh_from_db()
    assert fresh.status == JobStatus.QUEUED
