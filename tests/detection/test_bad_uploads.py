"""The worker turns every awkward upload into a finished job with a clear outcome."""

import pytest
from django.core.files import File

from detection.models import JobStatus
from orchestration.jobs import job_run
from tests.factories import JobFactory, VideoFactory
from tests.pipeline import bad_media

pytestmark = pytest.mark.django_db


def _run(path):
    video = VideoFactory(original_name=path.name)
    with open(path, "rb") as fh:
        video.file.save(path.name, File(fh), save=True)
    job = job_run(job_id=JobFactory(video=video).id)
    job.refresh_from_db()
    return job


@pytest.mark.parametrize(
    "make, code, message",
    [
        (lambda d: bad_media.audio_only(d / "voice.mp4"), "not_a_video", "no video stream"),
        (lambda d: bad_media.zero_size(d / "zero.y4m"), "not_a_video", "no video stream"),
        (
            lambda d: bad_media.corrupt_copy(
                bad_media.h264_video(d / "a.mp4", bad_media.moving_faces(20)),
                d / "bad.mp4",
                start=0.0,
                end=0.5,
            ),
            "not_a_video",
            "corrupt",
        ),
    ],
    ids=["audio_only", "zero_size", "corrupt_header"],
)
def test_an_unreadable_upload_fails_its_job_with_a_message(tmp_path, make, code, message):
    job = _run(make(tmp_path))
    assert job.status == JobStatus.FAILED
    assert job.error_code == code and message in job.error


def test_a_video_over_the_maximum_duration_fails_its_job(tmp_path, settings):
    settings.DETECTION_MAX_DURATION_S = 1
    job = _run(bad_media.h264_video(tmp_path / "long.mp4", bad_media.moving_faces(40)))
    assert job.status == JobStatus.FAILED and job.error_code == "too_long"
    assert "maximum is 1 s" in job.error


def test_a_portrait_phone_video_is_analysed_upright(tmp_path):
    path, _ = bad_media.portrait_phone_clip(tmp_path / "phone.mp4")
    job = _run(path)
    assert job.status == JobStatus.DONE
    assert (job.video.width, job.video.height) == (240, 320)
    assert job.frames_with_face == job.frames_sampled == 12


def test_a_variable_frame_rate_video_is_analysed_with_container_timestamps(tmp_path):
    path = bad_media.h264_video(
        tmp_path / "vfr.mp4", bad_media.moving_faces(6), pts_ms=[0, 40, 80, 1000, 2000, 3000]
    )
    job = _run(path)
    assert job.status == JobStatus.DONE
    assert sorted(job.frames.values_list("timestamp_s", flat=True)) == [0, 0.04, 0.08, 1, 2, 3]
    assert job.video.duration_s == pytest.approx(4.0, abs=0.01)
