"""Re-analysing a file with the same version gives the same result: every analysis records
its config, its frames and the SHA-256 of the file that scored it."""

import pytest

from detection.models import AnalysisJob, JobStatus, Video
from detection.selectors import model_version_active
from detection.services import job_analyse, job_reanalyse
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _result(job: AnalysisJob) -> dict:
    job.refresh_from_db()
    return {
        "verdict": job.verdict,
        "p": job.fake_probability,
        "reasons": job.reasons,
        "frames": list(job.frames.values_list("frame_index", "timestamp_s", "fake_probability")),
        "faces": list(
            job.frames.values_list(
                "faces__box_x",
                "faces__box_y",
                "faces__box_w",
                "faces__box_h",
                "faces__raw_score",
                "faces__fake_probability",
            )
        ),
        "people": list(
            job.persons.values_list("index", "fake_probability", "frames_seen", "branches")
        ),
    }


def test_reanalysing_a_file_with_the_same_version_gives_an_identical_result(clips, settings):
    from django.core.files import File

    uploader = UserFactory(username="alice")
    with open(clips["face"], "rb") as f:
        video = Video.objects.create(
            file=File(f, name="face.mp4"),
            original_name="face.mp4",
            size_bytes=clips["face"].stat().st_size,
            sha256="0" * 64,
            uploaded_by=uploader,
        )
    first = AnalysisJob.objects.create(video=video, model_version=model_version_active())
    job_analyse(job_id=first.id)
    first.refresh_from_db()
    assert first.status == JobStatus.DONE, first.error
    # What made it is recorded: the config, the frames, the served file's SHA-256.
    served = (
        first.model_version.spec["serving_sha256"] or first.model_version.spec["weights_sha256"]
    )
    assert first.weights_sha256 == served
    assert first.frame_indices == sorted(first.frames.values_list("frame_index", flat=True))
    assert first.config["frames_to_sample"] == settings.DETECTION_FRAMES_TO_SAMPLE

    # The site then samples more frames by default: the repeat still runs as the first ran.
    settings.DETECTION_FRAMES_TO_SAMPLE = first.config["frames_to_sample"] * 2
    again = job_reanalyse(job=first)
    job_analyse(job_id=again.id)
    again.refresh_from_db()
    assert again.status == JobStatus.DONE, again.error
    assert again.reanalysis_of == first and again.model_version == first.model_version
    assert (again.config, again.frame_indices, again.weights_sha256) == (
        first.config,
        first.frame_indices,
        first.weights_sha256,
    )
    assert _result(again) == _result(first)
