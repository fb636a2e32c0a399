"""The moderator's workbench in Debian's Chromium: keyboard-only review, decisions on a part of
the video, deadlines, face-only mode and the narrow layout."""

import cv2
import pytest
from django.core import mail
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.utils import timezone

from accounts.models import Role
from detection.models import FaceResult, FrameResult, PersonResult
from moderation.models import ReviewItem, ReviewState
from moderation.services import review_item_route
from tests import media
from tests.factories import UserFactory, done_job

from .helpers import webm_clip
from .waiting import wait_until

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def active_model():
    """The shipped model as the active version: a transactional test's flush removes the rows
    the migrations registered, so a test after the first would have no version (no threshold,
    no timeline)."""
    from django.conf import settings

    from detection.selectors import model_version_active
    from detection.services import model_version_register

    return model_version_active() or model_version_register(
        spec_path=settings.DETECTION_DEFAULT_MODEL_SPEC, activate=True
    )


@pytest.fixture
def people():
    return {
        name: UserFactory(username=name, role=role)
        for name, role in [
            ("alice", Role.UPLOADER),
            ("mod1", Role.MODERATOR),
            ("mod2", Role.MODERATOR),
            ("sam", Role.SENIOR_MODERATOR),
        ]
    }


def playable_item(uploader, *, name="speech.webm", probability=0.93, persons=2):
    """A routed item with a real (playable) clip, face crops and tracked persons."""
    job = done_job(uploader=uploader, probability=probability)
    job.video.file.save("clip.webm", ContentFile(webm_clip(seconds=20.0, fps=5)), save=False)
    job.video.original_name = name
    job.video.duration_s, job.video.width, job.video.height, job.video.fps = 20.0, 160, 120, 5.0
    job.video.save()
    ok, jpeg = cv2.imencode(".jpg", media.face_image())
    people_rows = [
        PersonResult.objects.create(job=job, index=i, fake_probability=0.5 + 0.2 * i, frames_seen=4)
        for i in range(persons)
    ]
    # The factory's frame at 0 s scores low here, so the flagged part is 12-16 s only.
    FrameResult.objects.filter(job=job).update(fake_probability=0.2)
    for face in FaceResult.objects.filter(frame__job=job):
        face.fake_probability = 0.2
        face.crop.save("0.jpg", ContentFile(jpeg.tobytes()), save=True)
    for n, t in enumerate([4.0, 8.0, 12.0, 16.0], start=1):
        frame = FrameResult.objects.create(
            job=job,
            frame_index=n,
            timestamp_s=t,
            fake_probability=0.95 if t in (12.0, 16.0) else 0.2,
        )
        face = FaceResult(
            frame=frame,
            box_x=0,
            box_y=0,
            box_w=50,
            box_h=50,
            raw_score=0.5,
            fake_probability=frame.fake_probability,
            person=people_rows[n % persons] if persons else None,
        )
        face.crop.save(f"{n}.jpg", ContentFile(jpeg.tobytes()), save=True)
    return review_item_route(job=job)


def wider_than_the_screen(page) -> list[str]:
    """The page's elements that stick out to the right (empty: no horizontal scroll)."""
    return page.evaluate("""() => {
        if (document.documentElement.scrollWidth <= window.innerWidth) return [];
        return Array.from(document.querySelectorAll("body *"))
            .filter(el => el.getBoundingClientRect().right > window.innerWidth + 0.5)
            .map(el => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "")
                 + (el.className && el.className.baseVal === undefined ? "." + el.className : "")
                 + " " + Math.round(el.getBoundingClientRect().right) + "px");
    }""")


def test_a_moderator_clears_a_queue_of_ten_items_with_the_keyboard_only(
    login, live_server, people, screenshot
):
    from playwright.sync_api import expect

    items = [
        review_item_route(job=done_job(uploader=people["alice"], probability=0.7 + i / 50))
        for i in range(10)
    ]
    page = login("mod1")
    page.goto(f"{live_server.url}/moderation/")
    page.keyboard.press("?")
    expect(page.locator("#shortcuts")).to_be_visible()
    screenshot(page, "1-shortcuts")
    page.keyboard.press("Escape")
    expect(page.locator("#shortcuts")).to_be_hidden()
    page.keyboard.press("n")  # claim the next item
    for n in range(10):
        expect(page.locator("#decision-form")).to_be_visible()
        if n == 0:
            screenshot(page, "2-first-item")
        # Alternate: confirm fake with its first reason, overturn with its second.
        page.keyboard.press("f" if n % 2 == 0 else "r")
        page.keyboard.press("1" if n % 2 == 0 else "2")
        expect(page.locator("#id_reason")).not_to_have_value("")
        this_item = page.url
        page.keyboard.press("Enter")
        # The next item opens (a new address; the queue itself after the last one).
        page.wait_for_url(lambda url, left=this_item: url != left)
        expect(page.locator(".message")).to_contain_text("Decision recorded")
    expect(page.locator(".message")).to_contain_text("Nothing left for you")
    screenshot(page, "3-cleared")
    decided = ReviewItem.objects.filter(pk__in=[i.pk for i in items])
    assert (
        decided.filter(state=ReviewState.CONFIRMED_FAKE, first_decided_by__username="mod1").count()
        == 5
    )
    assert decided.filter(state=ReviewState.OVERTURNED_REAL).count() == 5
    assert {e.reason for i in decided for e in i.events.filter(actor__isnull=False)} == {
        "artefacts",
        "authentic_source",
    }


def test_a_range_decision_is_made_and_the_uploader_sees_its_statement(
    login, live_server, people, screenshot
):
    from playwright.sync_api import expect

    item = playable_item(people["alice"])
    mod = login("mod1")
    mod.goto(f"{live_server.url}/moderation/items/{item.pk}/")
    mod.click("#claim-button")
    expect(mod.locator("#decision-form")).to_be_visible()
    # The page jumps to the first flagged segment (the model's, 12–16 s padded).
    wait_until(mod, "document.getElementById('player').readyState >= 1")
    wait_until(mod, "Math.abs(document.getElementById('player').currentTime - 10) < 0.05")
    expect(mod.locator("button.segment")).to_have_count(1)
    # The range is set from the player: seek, i; seek, o.
    mod.evaluate("document.getElementById('player').currentTime = 12")
    wait_until(mod, "Math.abs(document.getElementById('player').currentTime - 12) < 0.05")
    mod.locator("body").press("i")
    mod.evaluate("document.getElementById('player').currentTime = 19")
    wait_until(mod, "Math.abs(document.getElementById('player').currentTime - 19) < 0.05")
    mod.locator("body").press("o")
    expect(mod.locator("#id_start_s")).to_have_value("00:12.0")
    expect(mod.locator("#id_end_s")).to_have_value("00:19.0")
    mod.select_option("#id_person_index", "1")
    mod.check("input[name=decision][value=fake]")
    # A reason that does not fit the decision is not even offered.
    expect(mod.locator("#id_reason option[value=authentic_source]")).to_be_disabled()
    mod.select_option("#id_reason", "artefacts")
    screenshot(mod, "1-range-decision")
    mod.click("#decide")
    expect(mod.locator(".message")).to_contain_text("Decision recorded: confirmed fake")
    event = ReviewItem.objects.get(pk=item.pk).standing_decision
    assert (event.person_index, event.start_s, event.end_s) == (1, 12.0, 19.0)
    mod.goto(f"{live_server.url}/moderation/items/{item.pk}/")
    expect(mod.locator("button.seg-decision")).to_have_text("00:12–00:19")

    alice = login("alice")
    alice.goto(f"{live_server.url}/videos/jobs/{item.job_id}/")
    expect(alice.locator("#statement-decision")).to_contain_text("judged manipulated")
    expect(alice.locator("#statement-reason")).to_contain_text(
        "Visible blending, warping or texture artefacts"
    )
    expect(alice.locator("#statement-part")).to_have_text("Person 2, 00:12–00:19")
    expect(alice.locator("#statement-appeal")).to_contain_text("You can appeal this decision")
    expect(alice.locator("#appeal-form")).to_be_visible()
    # The setting is on by default: no per-frame scores or crops for the uploader.
    expect(alice.locator("svg.timeline")).to_have_count(0)
    expect(alice.locator(".crop img")).to_have_count(0)
    assert "mod1" not in alice.content()
    screenshot(alice, "2-statement")


def test_a_missed_deadline_escalates_to_a_senior_moderator(login, live_server, people, screenshot):
    from playwright.sync_api import expect

    item = playable_item(people["alice"], name="rally.webm")
    mod = login("mod1")
    mod.goto(f"{live_server.url}/moderation/")
    expect(mod.locator("#queue time[data-due]")).to_contain_text("due in")
    # The hour passes with nobody deciding it.
    ReviewItem.objects.filter(pk=item.pk).update(
        due_at=timezone.now() - timezone.timedelta(minutes=2, seconds=5)
    )
    mod.reload()
    expect(mod.locator("#queue time[data-due]")).to_contain_text("overdue 2 min")
    mail.outbox.clear()  # (the new flag was e-mailed to every moderator)
    call_command("moderation_deadlines")
    escalated = ReviewItem.objects.get(pk=item.pk)
    assert escalated.state == ReviewState.ESCALATED
    assert [m.to for m in mail.outbox] == [["sam@example.com"]]
    assert "Missed review deadline" in mail.outbox[0].subject

    # A plain moderator cannot take it; the senior moderator claims it from the escalated queue.
    mod.goto(f"{live_server.url}/moderation/items/{item.pk}/")
    expect(mod.locator("#barred")).to_contain_text("Escalated items go to a senior moderator")
    expect(mod.locator("#claim-button")).to_have_count(0)
    sam = login("sam")
    sam.goto(f"{live_server.url}/moderation/?state=escalated")
    expect(sam.locator("#queue .queue-item")).to_have_count(1)
    screenshot(sam, "1-senior-queue")
    sam.click("#claim-next-escalated")
    expect(sam.locator("#item-state")).to_have_text("Escalated")
    expect(sam.locator("#history")).to_contain_text("The review deadline was missed")
    sam.check("input[name=decision][value=fake]")
    sam.select_option("#id_reason", "known_manipulation")
    sam.click("#decide")
    expect(sam.locator(".message")).to_contain_text("Decision recorded: confirmed fake")
    final = ReviewItem.objects.get(pk=item.pk)
    assert (final.state, final.first_decided_by.username) == (ReviewState.CONFIRMED_FAKE, "sam")


def test_face_only_mode_blurs_the_frame_and_keeps_crops_sharp(
    login, live_server, people, screenshot
):
    from playwright.sync_api import expect

    people["mod1"].face_only_mode = "blur"
    people["mod1"].save()
    item = playable_item(people["alice"])
    page = login("mod1")
    page.goto(f"{live_server.url}/moderation/items/{item.pk}/")
    expect(page.locator("#workbench")).to_have_class("workbench face-only-blur")

    def filter_of(selector):
        return page.evaluate(f"getComputedStyle(document.querySelector('{selector}')).filter")

    assert filter_of("#player").startswith("blur(")
    assert filter_of(".crop img") == "none"
    # Sound starts muted (the default preference).
    assert page.evaluate("document.getElementById('player').muted") is True
    screenshot(page, "1-blurred")
    page.locator("body").press("b")
    assert filter_of("#player") == "grayscale(1)"
    page.locator("body").press("b")
    assert filter_of("#player") == "none"
    # Enlarging a crop shows the face at the video's full resolution in a dialog.
    page.locator("button.enlarge").first.click()
    expect(page.locator("#crop-viewer")).to_be_visible()
    wait_until(page, "document.getElementById('crop-viewer-image').complete")
    natural = page.evaluate("document.getElementById('crop-viewer-image').naturalWidth")
    shown = page.evaluate("document.getElementById('crop-viewer-image').width")
    # The face cut from the 160x120 video frame itself (50 px box, 15 px margin, clipped at the
    # frame's edge), shown larger than the 112 px thumbnail.
    assert natural == 65 and shown > 112
    page.keyboard.press("Escape")


def test_queue_and_evidence_page_have_no_horizontal_scroll_at_390_px(
    login, live_server, people, screenshot
):
    from playwright.sync_api import expect

    item = playable_item(
        people["alice"],
        name="a-very-long-file-name-from-a-phone-camera-2026-12-06-at-09-41-17-final-final.webm",
    )
    for i in range(3):
        review_item_route(job=done_job(uploader=people["alice"], probability=0.8 + i / 20))
    for dark in (False, True):
        page = login("mod1", width=390, height=844, dark=dark)
        scheme = "dark" if dark else "light"
        page.goto(f"{live_server.url}/moderation/")
        expect(page.locator("#queue .queue-item")).to_have_count(4)
        assert wider_than_the_screen(page) == []
        screenshot(page, f"queue-390-{scheme}")
        page.goto(f"{live_server.url}/moderation/items/{item.pk}/")
        if not dark:  # (still held on the second round)
            page.click("#claim-button")
        expect(page.locator("#decision-form")).to_be_visible()
        assert wider_than_the_screen(page) == []
        screenshot(page, f"evidence-390-{scheme}")
        background = page.evaluate("getComputedStyle(document.body).backgroundColor")
        assert (background == "rgb(18, 22, 28)") == dark, background
        for other in ("/videos/", "/moderation/dashboard/", f"/videos/jobs/{item.job_id}/"):
            page.goto(f"{live_server.url}{other}")
            assert wider_than_the_screen(page) == [], other


def test_keyboard_users_reach_the_timeline_points_and_the_skip_link(login, live_server, people):
    from playwright.sync_api import expect

    item = playable_item(people["alice"])
    page = login("mod1")
    page.goto(f"{live_server.url}/moderation/items/{item.pk}/")
    page.keyboard.press("Tab")
    expect(page.locator(".skip-link")).to_be_focused()
    page.keyboard.press("Enter")
    assert page.evaluate("location.hash") == "#main"
    # The page first jumps to the flagged segment (10 s).
    wait_until(page, "Math.abs(document.getElementById('player').currentTime - 10) < 0.01")
    # From the last player tool, Tab walks the frames' points in time order: 0, 4, 8 s.
    page.locator("#face-only-button").focus()
    for t in ("0.0", "4.0", "8.0"):
        page.keyboard.press("Tab")
        expect(page.locator(f"svg.timeline .point[tabindex='0'][data-t='{t}']")).to_be_focused()
    page.keyboard.press("Enter")
    wait_until(page, "Math.abs(document.getElementById('player').currentTime - 8) < 0.01")
    # Frame stepping: one frame at 5 fps is 0.2 s.
    page.locator("body").press(".")
    wait_until(page, "Math.abs(document.getElementById('player').currentTime - 8.2) < 0.01")
    page.locator("body").press(">")
    assert page.evaluate("document.getElementById('player').playbackRate") == 1.5
    page.locator("body").press("+")
    expect(page.locator("#zoom-level")).to_have_text("1.5×")
