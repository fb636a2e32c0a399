"""The whole review flow in a real browser: decide, see the outcome, appeal, decide the appeal."""

import cv2
import pytest
from django.core.files.base import ContentFile

from accounts.models import Role
from detection.models import FaceResult, FrameResult
from moderation.models import ReviewItem, ReviewState
from moderation.services import review_item_route
from tests import media
from tests.factories import UserFactory, done_job

from .helpers import webm_clip
from .waiting import wait_until

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TIMES = [0.5, 1.5, 2.5, 3.5]


@pytest.fixture
def people():
    return {
        name: UserFactory(username=name, role=role)
        for name, role in [
            ("alice", Role.UPLOADER),
            ("mod1", Role.MODERATOR),
            ("mod2", Role.MODERATOR),
        ]
    }


@pytest.fixture
def item(people):
    job = done_job(uploader=people["alice"], probability=0.93)
    job.video.file.save("clip.webm", ContentFile(webm_clip()), save=False)
    job.video.original_name = "speech.webm"
    job.video.duration_s, job.video.width, job.video.height = 4.0, 160, 120
    job.video.save()
    ok, jpeg = cv2.imencode(".jpg", media.face_image())
    for face in FaceResult.objects.filter(frame__job=job):  # the factory's crop is no picture
        face.crop.save("0.jpg", ContentFile(jpeg.tobytes()), save=True)
    for n, t in enumerate(TIMES, start=1):
        frame = FrameResult.objects.create(
            job=job, frame_index=n, timestamp_s=t, fake_probability=0.6 + 0.1 * n
        )
        face = FaceResult(
            frame=frame,
            box_x=0,
            box_y=0,
            box_w=50,
            box_h=50,
            raw_score=0.5,
            fake_probability=0.6 + 0.1 * n if n < 4 else 0.95,
        )
        face.crop.save(f"{n}.jpg", ContentFile(jpeg.tobytes()), save=True)
    # A less suspicious item, so "the top item" is a real choice.
    review_item_route(job=done_job(uploader=people["alice"], verdict="uncertain", probability=0.4))
    return review_item_route(job=job)


def test_a_decision_is_made_seen_appealed_and_decided_by_another_moderator(
    login, live_server, item, screenshot
):
    from playwright.sync_api import expect

    # mod1 claims the top item, looks at the evidence and confirms it fake (only an adverse
    # decision can be appealed).
    mod1 = login("mod1")
    mod1.goto(f"{live_server.url}/moderation/")
    top = mod1.locator("#queue .queue-item a").first
    expect(top).to_have_text("speech.webm")
    top.click()
    mod1.click("#claim-button")
    expect(mod1.locator("#decision-form")).to_be_visible()
    expect(mod1.locator("svg.timeline .point")).to_have_count(len(TIMES) + 1)
    expect(mod1.locator("#evidence .crop img")).to_have_count(len(TIMES) + 1)
    expect(mod1.locator(".heatmap-note")).to_contain_text("not that anything was manipulated")
    # Clicking a point of the timeline seeks the (really playable) video there.
    wait_until(mod1, "document.getElementById('player').readyState >= 1")
    mod1.locator("svg.timeline .point[data-t='2.5']").first.click()
    wait_until(mod1, "Math.abs(document.getElementById('player').currentTime - 2.5) < 0.01")
    screenshot(mod1, "1-evidence")
    mod1.check("input[name=decision][value=fake]")
    mod1.select_option("select[name=reason]", "artefacts")
    mod1.fill("textarea[name=note]", "Blending edge along the jaw.")
    mod1.click("#decide")
    expect(mod1.locator(".message")).to_contain_text("Decision recorded: confirmed fake")
    assert ReviewItem.objects.get(pk=item.pk).state == ReviewState.CONFIRMED_FAKE

    # The uploader sees the outcome and its statement of reasons, with no moderator named, and
    # appeals.
    alice = login("alice")
    alice.goto(f"{live_server.url}/videos/jobs/{item.job_id}/")
    expect(alice.locator("#review-outcome")).to_have_text("Reviewed by a moderator: manipulated")
    expect(alice.locator("#statement-reason")).to_contain_text("Visible blending")
    assert "mod1" not in alice.content()
    alice.fill("#id_appeal_message", "Please look again at the start.")
    alice.click("#appeal-form button[type=submit]")
    expect(alice.locator("#review-outcome")).to_have_text("Your appeal is waiting for a moderator")
    expect(alice.locator("#appeal-form")).to_have_count(0)
    screenshot(alice, "2-appealed")

    # The first moderator cannot take the appeal: the page offers no claim, and a claim
    # posted anyway (a crafted form with a valid CSRF token) is refused by the server.
    mod1.goto(f"{live_server.url}/moderation/items/{item.pk}/")
    expect(mod1.locator("#barred")).to_contain_text("its appeal goes to another moderator")
    expect(mod1.locator("#claim-button")).to_have_count(0)
    mod1.evaluate(
        """(url) => {
        const form = document.createElement("form");
        form.method = "post"; form.action = url;
        form.appendChild(document.querySelector("input[name=csrfmiddlewaretoken]").cloneNode());
        document.body.appendChild(form); form.submit();
    }""",
        f"/moderation/items/{item.pk}/claim/",
    )
    expect(mod1.locator(".message")).to_contain_text("its appeal goes to another moderator")
    expect(mod1.locator("#decision-form")).to_have_count(0)
    assert ReviewItem.objects.get(pk=item.pk).claimed_by is None
    screenshot(mod1, "3-first-moderator-refused")

    # A second moderator finds the appeal in the queue and decides it.
    mod2 = login("mod2")
    mod2.goto(f"{live_server.url}/moderation/")
    mod2.locator("#queue .queue-item a", has_text="speech.webm").click()
    expect(mod2.locator("#claim")).to_contain_text("Please look again at the start.")
    mod2.click("#claim-button")
    mod2.check("input[name=decision][value=real]")
    mod2.select_option("select[name=reason]", "authentic_source")
    mod2.click("#decide")
    expect(mod2.locator(".message")).to_contain_text("Decision recorded: judged real")
    mod2.goto(f"{live_server.url}/moderation/items/{item.pk}/")
    expect(mod2.locator("#history tbody tr")).to_have_count(4)
    screenshot(mod2, "4-history")
    mod2.goto(f"{live_server.url}/moderation/dashboard/")
    expect(mod2.locator("#agreement tbody tr")).to_contain_text(
        f"{item.job.model_version.name} v{item.job.model_version.version}"
    )
    expect(mod2.locator("svg.chart")).to_have_count(2)
    screenshot(mod2, "5-dashboard")

    alice.reload()
    expect(alice.locator("#review-outcome")).to_have_text(
        "Reviewed by a moderator: authentic (after appeal, final)"
    )
    screenshot(alice, "6-final")
    final = ReviewItem.objects.get(pk=item.pk)
    assert (final.first_decided_by.username, final.appeal_decided_by.username) == ("mod1", "mod2")
