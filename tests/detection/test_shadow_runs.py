"""A version in shadow scores new uploads beside the active one and never changes a routing."""

from unittest import mock

import pytest
from django.core.files import File

from detection import tasks
from detection.models import JobStatus, ModelState, ShadowResult
from moderation.models import ReviewEvent, ReviewItem
from orchestration.jobs import job_run
from tests.factories import JobFactory, VideoFactory, model_version_like_active

pytestmark = pytest.mark.django_db


def _job_for(path):
    video = VideoFactory(original_name=path.name)
    with open(path, "rb") as fh:
        video.file.save(path.name, File(fh), save=True)
    return JobFactory(video=video)


def _outcome(job) -> dict:
    """Everything a shadow must leave alone: the job's result, its item, events and due date."""
    job.refresh_from_db()
    item = ReviewItem.objects.get(job=job)
    return {
        "job": (job.status, job.verdict, job.fake_probability, job.model_version_id, job.reasons),
        "item": (item.state, item.model_version_id, item.model_score, item.model_verdict),
        "due": item.due_at - item.created_at if item.due_at else None,
        "events": list(
            ReviewEvent.objects.filter(item=item).values_list(
                "from_state", "to_state", "reason", "note", "model_score"
            )
        ),
    }


def test_a_shadow_version_never_changes_a_routing(clips):
    # Without a shadow version: what the active version decides on the clip.
    alone = _job_for(clips["face"])
    job_run(job_id=alone.id)
    without_shadow = _outcome(alone)
    assert without_shadow["job"][1] != "fake"  # so a shadow that calls it fake differs

    # A shadow version that calls every face video fake (a video band of 0-0).
    shadow = model_version_like_active(
        name="everything-fake",
        version="s",
        state=ModelState.SHADOW,
        video_uncertain_low=0.0,
        video_uncertain_high=0.0,
    )
    job = _job_for(clips["face"])
    job_run(job_id=job.id)
    row = ShadowResult.objects.get(job=job)
    assert (row.model_version, row.status) == (shadow, JobStatus.QUEUED)
    before = _outcome(job)
    assert before == without_shadow  # queuing it changed nothing

    assert tasks.shadow_score(row.pk) == JobStatus.DONE
    row.refresh_from_db()
    assert row.verdict == "fake" and row.verdict != before["job"][1]
    assert row.fake_probability == pytest.approx(before["job"][2])  # the same weights
    assert row.frame_indices == job.frame_indices and row.config == job.config
    assert row.weights_sha256 == job.weights_sha256 and "total" in row.timings
    assert _outcome(job) == without_shadow  # the job and its routing are exactly as before
    assert not ShadowResult.objects.filter(job=alone).exists()


def test_a_shadow_whose_weights_are_missing_is_stored_failed_and_changes_nothing(clips, tmp_path):
    model_version_like_active(
        name="lost",
        version="s",
        state=ModelState.SHADOW,
        weights_file=str(tmp_path / "gone.keras"),
        serving_file="",
    )
    job = _job_for(clips["face"])
    job_run(job_id=job.id)
    before = _outcome(job)
    row = ShadowResult.objects.get(job=job)
    assert tasks.shadow_score(row.pk) == JobStatus.FAILED  # returned, not raised
    row.refresh_from_db()
    assert row.error_code == "model_unavailable" and str(tmp_path) in row.error
    assert row.verdict == "" and row.fake_probability is None
    assert _outcome(job) == before


def test_a_crashing_shadow_is_stored_failed_and_the_worker_lives(clips):
    model_version_like_active(name="buggy", version="s", state=ModelState.SHADOW)
    job = _job_for(clips["no_face"])
    job_run(job_id=job.id)
    row = ShadowResult.objects.get(job=job)
    with mock.patch("detection.services.analyser_for_spec", side_effect=MemoryError("boom")):
        assert tasks.shadow_score(row.pk) == JobStatus.FAILED
    row.refresh_from_db()
    assert row.error_code == "internal_error" and "MemoryError" in row.error
    assert tasks.shadow_score(row.pk) is None  # done with: not scored twice


def test_shadow_scores_are_sent_to_the_analysis_cluster_after_commit(
    clips, settings, django_capture_on_commit_callbacks
):
    shadow = model_version_like_active(name="side", version="s", state=ModelState.SHADOW)
    job = _job_for(clips["no_face"])
    with mock.patch("django_q.tasks.async_task") as send:
        with django_capture_on_commit_callbacks(execute=True):
            job_run(job_id=job.id)
    row = ShadowResult.objects.get(job=job, model_version=shadow)
    sent = [c for c in send.call_args_list if c.args[0] == "detection.tasks.shadow_score"]
    assert len(sent) == 1 and sent[0].args[1] == row.pk
    assert sent[0].kwargs["cluster"] == settings.DETECTION_QUEUE_NAME


def test_shadow_runs_can_be_switched_off(clips, settings):
    settings.DETECTION_SHADOW_RUNS = False
    model_version_like_active(name="off", version="s", state=ModelState.SHADOW)
    job = _job_for(clips["no_face"])
    job_run(job_id=job.id)
    assert not ShadowResult.objects.filter(job=job).exists()
