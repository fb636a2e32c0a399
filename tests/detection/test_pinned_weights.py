"""The worker scores only with the bytes a version was registered with: a changed file under
the same name fails the job with a clear reason instead of giving its results a new meaning."""

import shutil

import pytest

from detection import model_cache
from detection.models import AnalysisJob, JobStatus
from detection.services import job_analyse
from tests.factories import model_version_like_active

pytestmark = pytest.mark.django_db


def test_a_version_whose_file_changed_fails_its_jobs_clearly(clips, tmp_path):
    from django.core.files import File

    from detection.models import Video
    from tests.factories import UserFactory

    active = model_version_like_active(version="base")
    lite = active.resolved_weights_path.parent / active.spec["serving"]["file"]
    changed = tmp_path / lite.name
    shutil.copy(lite, changed)
    with changed.open("ab") as f:
        f.write(b"\0")  # one byte more: another file under the same name
    shutil.copy(active.resolved_weights_path, tmp_path / active.resolved_weights_path.name)
    version = model_version_like_active(
        version="moved", weights_file=str(tmp_path / active.resolved_weights_path.name)
    )
    with open(clips["face"], "rb") as f:
        video = Video.objects.create(
            file=File(f, name="face.mp4"),
            original_name="face.mp4",
            size_bytes=1,
            sha256="0" * 64,
            uploaded_by=UserFactory(username="alice"),
        )
    job = AnalysisJob.objects.create(video=video, model_version=version)
    model_cache.models_forget()
    job_analyse(job_id=job.id)
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert job.error_code == "model_unavailable"
    assert "is not the file" in job.error and "registered" in job.error
