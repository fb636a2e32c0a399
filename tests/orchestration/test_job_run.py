import datetime as dt
import shutil
from unittest import mock

import pytest
from django.core.files import File
from django.utils import timezone

from detection import services
from detection.models import AnalysisJob, FaceResult, FrameResult, JobStatus
from orchestration.jobs import job_run, stale_jobs_fail
from orchestration.tasks import analyse_job
from tests.factories import JobFactory, VideoFactory

pytestmark = pytest.mark.django_db


def _job_for(path):
    video = VideoFactory(original_name=path.name)
    with open(path, "rb") as fh:
        video.file.save(path.name, File(fh), save=True)
    return JobFactory(video=video)


def test_the_task_analyses_a_video_and_stores_every_result(clips):
    job = _job_for(clips["face"])
    assert analyse_job(str(job.id)) == "done"
    job.refresh_from_db()
    assert job.status == JobStatus.DONE and job.error == ""
    assert job.verdict in {"fake", "real", "uncertain"}
    assert 0 <= job.fake_probability <= 1
    assert job.frames_sampled == 32 and job.frames_with_face >= 28
    assert job.started_at <= job.finished_at
    assert {"decode", "faces", "model", "aggregate", "store", "total"} <= set(job.timings)
    assert FrameResult.objects.filter(job=job).count() == 32
    face = FaceResult.objects.filter(frame__job=job).first()
    assert face.crop.read()[:2] == b"\xff\xd8"  # a JPEG on disk
    assert (job.video.width, job.video.height, job.video.frame_count) == (320, 320, 40)
    person = job.persons.get()  # one face throughout: one person
    assert person.frames_seen == job.frames_with_face and person.counts_for_video
    assert person.fake_probability == pytest.approx(job.fake_probability)
    assert person.faces.filter(is_representative=True).count() == 1
    assert FaceResult.objects.filter(frame__job=job, person__isnull=True).count() == 0


def test_no_face_is_stored_as_its_own_verdict(clips):
    job = _job_for(clips["no_face"])
    job_run(job_id=job.id)
    job.refresh_from_db()
    assert (job.status, job.verdict, job.fake_probability) == ("done", "no_face", None)
    assert FrameResult.objects.filter(job=job, fake_probability__isnull=True).count() == 24


@pytest.mark.parametrize(
    "name, code",
    [("not_video", "not_a_video"), ("empty", "empty_file"), ("truncated", "not_a_video")],
)
def test_bad_input_is_stored_as_failed_with_the_reason(clips, name, code):
    job = _job_for(clips[name])
    job_run(job_id=job.id)
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert job.error_code == code
    assert job.error and job.finished_at is not None
    assert not FrameResult.objects.filter(job=job).exists()


def test_a_job_is_claimed_only_while_queued():
    job = JobFactory()
    assert services.job_claim(job_id=job.id) is True
    assert services.job_claim(job_id=job.id) is False  # a second worker gets nothing
    job.refresh_from_db()
    assert job.status == JobStatus.RUNNING and job.started_at is not None


def test_a_job_that_is_not_queued_is_left_alone(clips):
    job = _job_for(clips["face"])
    AnalysisJob.objects.filter(id=job.id).update(status=JobStatus.DONE)
    assert job_run(job_id=job.id) is None
    assert not FrameResult.objects.filter(job=job).exists()


def test_an_unknown_job_id_is_ignored():
    assert analyse_job("00000000-0000-0000-0000-000000000000") is None


def test_an_unexpected_error_is_recorded_and_does_not_escape(clips):
    job = _job_for(clips["face"])
    with mock.patch("detection.services.analyser_for_spec", side_effect=MemoryError("boom")):
        job_run(job_id=job.id)  # must not raise: the worker lives on
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and job.error_code == "internal_error"
    assert "MemoryError" in job.error


def test_a_failure_while_storing_leaves_no_partial_rows_or_files(clips, settings):
    job = _job_for(clips["face"])
    with mock.patch.object(FaceResult, "save", side_effect=[None, None, RuntimeError("disk")]):
        job_run(job_id=job.id)
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and "storing" in job.error
    assert not FrameResult.objects.filter(job=job).exists()
    crops_dir = settings.MEDIA_ROOT / "crops" / str(job.id)
    assert not crops_dir.exists() or not any(crops_dir.iterdir())


def test_a_missing_video_file_fails_cleanly(clips):
    job = _job_for(clips["face"])
    shutil.os.remove(job.video.file.path)
    job_run(job_id=job.id)
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and "not found" in job.error


def test_a_job_without_any_active_model_fails_with_a_clear_reason(clips):
    from detection.models import ModelVersion

    job = _job_for(clips["face"])
    AnalysisJob.objects.filter(id=job.id).update(model_version=None)
    ModelVersion.objects.update(state="retired")
    job_run(job_id=job.id)
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and "No model version is active" in job.error


def test_jobs_whose_worker_died_are_failed_after_the_timeout(settings):
    stale = JobFactory(
        status=JobStatus.RUNNING,
        started_at=timezone.now() - dt.timedelta(seconds=settings.DETECTION_JOB_TIMEOUT_S + 120),
    )
    fresh = JobFactory(status=JobStatus.RUNNING, started_at=timezone.now())
    assert stale_jobs_fail() == 1
    stale.refresh_from_db()
    fresh.refresh_from_db()
    assert stale.status == JobStatus.FAILED and stale.error_code == "timeout"
    assert fresh.status == JobStatus.RUNNING
