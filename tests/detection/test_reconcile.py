"""The reconciler: lost queued jobs are queued again, jobs whose worker died get bounded
attempts, and only the attempt that holds a job stores its result."""

import datetime as dt
import time
from unittest import mock

import pytest
from django.core.files import File
from django.utils import timezone
from django_q.models import OrmQ
from django_q.signing import SignedPackage

from detection import reconcile, services
from detection.models import AnalysisJob, FrameResult, JobStatus
from tests.factories import JobFactory, VideoFactory

pytestmark = pytest.mark.django_db


def _messages(key=None):
    rows = OrmQ.objects.all() if key is None else OrmQ.objects.filter(key=key)
    return [SignedPackage.loads(row.payload) for row in rows]


def _analysis_message_ids(settings):
    return [
        m["args"][0]
        for m in _messages(settings.DETECTION_QUEUE_NAME)
        if m["func"] == "orchestration.tasks.analyse_job"
    ]


def _ago(seconds):
    return timezone.now() - dt.timedelta(seconds=seconds)


def test_a_queued_job_without_a_broker_message_is_queued_again(settings):
    lost = JobFactory(
        status=JobStatus.QUEUED, enqueued_at=_ago(settings.DETECTION_QUEUE_GRACE_S + 5)
    )
    assert reconcile.jobs_requeue_lost() == 1
    assert _analysis_message_ids(settings) == [str(lost.id)]
    lost.refresh_from_db()
    assert lost.enqueued_at > _ago(5)
    assert reconcile.jobs_requeue_lost() == 0  # sent again just now: not twice


def test_a_queued_job_whose_message_waits_is_left_alone(settings):
    job = JobFactory(status=JobStatus.QUEUED)
    services.job_enqueue(job_id=job.id)
    AnalysisJob.objects.filter(id=job.id).update(
        enqueued_at=_ago(settings.DETECTION_QUEUE_GRACE_S + 5)
    )
    assert reconcile.jobs_requeue_lost() == 0
    assert _analysis_message_ids(settings) == [str(job.id)]


def test_a_recently_queued_job_is_within_its_grace_time(settings):
    JobFactory(status=JobStatus.QUEUED, enqueued_at=_ago(1))
    assert reconcile.jobs_requeue_lost() == 0
    assert OrmQ.objects.count() == 0


def test_a_running_job_whose_heartbeat_stopped_goes_back_to_the_queue(
    settings, django_capture_on_commit_callbacks
):
    stale = JobFactory(
        status=JobStatus.RUNNING,
        attempts=1,
        started_at=_ago(300),
        heartbeat_at=_ago(settings.DETECTION_HEARTBEAT_STALE_S + 5),
    )
    alive = JobFactory(
        status=JobStatus.RUNNING, attempts=1, started_at=_ago(300), heartbeat_at=_ago(1)
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert reconcile.jobs_requeue_stale() == (1, [])
    stale.refresh_from_db()
    alive.refresh_from_db()
    assert (stale.status, stale.attempts, stale.heartbeat_at) == (JobStatus.QUEUED, 1, None)
    assert alive.status == JobStatus.RUNNING
    assert _analysis_message_ids(settings) == [str(stale.id)]


def test_a_claim_counts_the_attempt_and_starts_the_heartbeat():
    job = JobFactory(status=JobStatus.QUEUED)
    assert reconcile.job_claim(job_id=job.id) == 1
    AnalysisJob.objects.filter(id=job.id).update(status=JobStatus.QUEUED)
    assert reconcile.job_claim(job_id=job.id) == 2
    job.refresh_from_db()
    assert job.status == JobStatus.RUNNING and job.heartbeat_at is not None


def test_the_heartbeat_thread_stamps_only_its_own_running_attempt():
    # The thread writes on a connection of its own (a real commit): watched here through the
    # query it makes, so this test keeps the test database's transaction.
    with (
        mock.patch.object(reconcile, "AnalysisJob") as model,
        mock.patch.object(reconcile, "connection") as thread_connection,
    ):
        with reconcile.job_heartbeat(job_id="j1", attempt=2, every_s=0.02):
            time.sleep(0.3)
        beats = model.objects.filter.call_count
        time.sleep(0.1)
        assert model.objects.filter.call_count == beats  # stopped with the analysis
    assert beats >= 3
    model.objects.filter.assert_called_with(id="j1", status=JobStatus.RUNNING, attempts=2)
    assert model.objects.filter.return_value.update.call_count == beats
    thread_connection.close.assert_called_once()


def _job_for(path):
    video = VideoFactory(original_name=path.name)
    with open(path, "rb") as fh:
        video.file.save(path.name, File(fh), save=True)
    return JobFactory(video=video)


def test_an_attempt_that_lost_its_job_stores_nothing_and_the_next_stores_once(
    clips, shipped_analyser
):
    job = _job_for(clips["face"])
    first = reconcile.job_claim(job_id=job.id)
    slow = AnalysisJob.objects.select_related("video", "model_version").get(id=job.id)
    result = shipped_analyser.analyse(job.video.file.path)
    # The reconciler decides the first worker died and hands the job to a second attempt.
    AnalysisJob.objects.filter(id=job.id).update(status=JobStatus.QUEUED, heartbeat_at=None)
    assert reconcile.job_claim(job_id=job.id) == first + 1
    with pytest.raises(services.JobSuperseded):
        services.job_store_result(
            job=slow, model_version=slow.model_version, result=result, seconds=1.0
        )
    assert not FrameResult.objects.filter(job=job).exists()
    services.job_fail(job=slow, code="internal_error", message="late failure")  # ignored too
    current = AnalysisJob.objects.select_related("video", "model_version").get(id=job.id)
    assert current.status == JobStatus.RUNNING
    services.job_store_result(
        job=current, model_version=current.model_version, result=result, seconds=1.0
    )
    current.refresh_from_db()
    assert current.status == JobStatus.DONE and current.error == ""
    assert FrameResult.objects.filter(job=job).count() == 32
    with pytest.raises(services.JobSuperseded):  # the same attempt storing again: refused
        stale_copy = AnalysisJob.objects.get(id=job.id)
        stale_copy.status = JobStatus.RUNNING
        services.job_store_result(
            job=stale_copy, model_version=current.model_version, result=result, seconds=1.0
        )
    assert FrameResult.objects.filter(job=job).count() == 32


def test_a_queue_that_no_worker_takes_from_is_reported_as_stalled(settings, caplog):
    old = _ago(5 * settings.DETECTION_QUEUE_GRACE_S + 10)
    JobFactory(status=JobStatus.QUEUED, enqueued_at=old)
    JobFactory(status=JobStatus.DONE, started_at=old, finished_at=old)
    assert reconcile.queue_stalled() == 1
    assert "looks stalled" in caplog.text
    JobFactory(status=JobStatus.RUNNING, attempts=1, started_at=_ago(1))  # work goes on
    assert reconcile.queue_stalled() == 0
