"""A new version goes from `register_model` to shadow to promotion with no code change and no
migration: registered from its spec, it scores real uploads beside the active version,
moderators decide, the comparison holds, and an admin promotes it with a reason."""

import json
from io import StringIO

import pytest
from django.conf import settings
from django.core.files import File
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from detection import tasks
from detection.models import JobStatus, ModelVersion, ShadowResult
from detection.pipeline.spec import ModelSpec
from detection.selectors import model_version_active
from moderation.models import ReviewItem
from orchestration.jobs import job_run
from tests.factories import PASSWORD, JobFactory, UserFactory, VideoFactory
from tests.moderation.helpers import decided_with_shadow

pytestmark = pytest.mark.django_db


def _release(tmp_path) -> str:
    """v2 of the shipped version: the same weights, a band of its own, and a card."""
    shipped_path = settings.DETECTION_DEFAULT_MODEL_SPEC
    spec = json.loads(shipped_path.read_text())
    shipped = ModelSpec.load(shipped_path)
    spec.update(
        version="2",
        weights_file=str(shipped.weights_path(shipped_path)),
        serving_file=str(shipped.weights_path(shipped_path).parent / shipped.serving_file),
        video_uncertain_low=0.3,
        video_uncertain_high=0.6,
    )
    path = tmp_path / "lite0_fusion_v2.json"
    path.write_text(json.dumps(spec))
    (tmp_path / "lite0_fusion_v2.md").write_text("# lite0_fusion v2\n\nA narrower band.\n")
    return str(path)


def test_register_shadow_promote_with_no_code_change_and_no_migration(clips, tmp_path):
    active = model_version_active()
    out = StringIO()
    call_command("register_model", _release(tmp_path), "--shadow", stdout=out)
    assert "registered lite0_fusion v2 (shadow)" in out.getvalue()
    candidate = ModelVersion.objects.get(name="lite0_fusion", version="2")

    # A real upload: the active version decides it, the candidate scores it beside.
    video = VideoFactory(original_name="face.mp4")
    with open(clips["face"], "rb") as fh:
        video.file.save("face.mp4", File(fh), save=True)
    job = JobFactory(video=video)
    job_run(job_id=job.id)
    job.refresh_from_db()
    assert job.status == JobStatus.DONE and job.model_version == active
    shadow = ShadowResult.objects.get(job=job, model_version=candidate)
    tasks.shadow_score(shadow.pk)
    shadow.refresh_from_db()
    assert shadow.status == JobStatus.DONE, shadow.error
    # The same weights and frames: the same evidence, read against the candidate's own band.
    assert shadow.frame_indices == job.frame_indices
    assert shadow.weights_sha256 == job.weights_sha256
    assert ReviewItem.objects.get(job=job).model_version == active

    # Moderators decide enough items that both versions scored; the candidate ranks them as
    # the active version does, so it is not worse.
    alice = UserFactory(username="alice")
    mod = UserFactory(username="mod", role="moderator")
    for i in range(settings.MODEL_PROMOTION_MIN_DECIDED):
        truth = "fake" if i % 2 else "real"
        p = (0.55 + i / 200) if truth == "fake" else (0.2 + i / 200)
        decided_with_shadow(
            uploader=alice, moderator=mod, truth=truth, active_p=p, shadow=candidate, shadow_p=p
        )

    root = UserFactory(username="root", role="admin", is_staff=True, is_superuser=True)
    client = Client()
    client.login(username=root.username, password=PASSWORD)
    url = reverse("admin:detection_modelversion_promote", args=[candidate.pk])
    assert b"AUC" in client.get(url).content
    done = client.post(url, {"reason": "narrower band, same ranking on our decisions"})
    assert done.status_code == 302
    assert model_version_active() == candidate
    event = candidate.events.get(action="promoted")
    assert event.actor == root and event.replaced == active and event.comparison

    # Nothing in the code or the schema had to change for it.
    call_command("makemigrations", "--check", "--dry-run", stdout=StringIO())
