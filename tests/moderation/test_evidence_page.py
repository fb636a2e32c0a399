from django.core.files.base import ContentFile
from django.urls import reverse

from detection.models import FaceResult, FrameResult, PersonResult
from moderation.models import HeatmapOverlay
from tests.base import PlatformTestCase
from tests.factories import PASSWORD

from .helpers import routed


class EvidencePageTests(PlatformTestCase):
    def setUp(self):
        super().setUp()
        self.item = routed(uploader=self.alice, probability=0.9)
        self.job = self.item.job
        video = self.job.video
        video.width, video.height, video.duration_s, video.fps, video.codec = (
            640,
            360,
            4.0,
            25.0,
            "avc1",
        )
        video.save()
        self.job.timings = {"decode": 0.5, "model": 0.25}
        self.job.save()
        self.url = reverse("moderation:item_detail", args=[self.item.pk])
        self.client.login(username="mod", password=PASSWORD)

    def test_it_shows_the_player_timeline_crops_metadata_and_history(self):
        page = self.client.get(self.url)
        self.assertContains(page, reverse("detection:video_file", args=[self.job.id]))
        self.assertContains(page, '<svg class="timeline"')
        self.assertContains(page, 'class="point" data-t="0.0"')
        face = FaceResult.objects.get(frame__job=self.job)
        self.assertContains(page, reverse("detection:face_crop", args=[face.id]))
        for text in (
            "640x360",
            "4.00 s",
            "avc1",
            self.job.video.sha256,
            f"{self.job.model_version.name} v{self.job.model_version.version}",
            "decode 0.50 s",
            "Model score at or above the flag threshold",
            "not that anything was manipulated",
        ):
            self.assertContains(page, text)

    def test_it_offers_a_claim_then_the_decision_form(self):
        self.assertContains(self.client.get(self.url), 'id="claim-button"')
        self.client.post(reverse("moderation:item_claim", args=[self.item.pk]))
        page = self.client.get(self.url)
        self.assertContains(page, 'id="decision-form"')
        self.assertContains(page, "Overturn: real")

    def test_an_invalid_decision_is_answered_with_the_form_errors(self):
        self.client.post(reverse("moderation:item_claim", args=[self.item.pk]))
        response = self.client.post(
            reverse("moderation:item_decide", args=[self.item.pk]),
            {"decision": "real", "reason": ""},
        )
        self.assertEqual(response.status_code, 400)
        self.assertContains(response, "This field is required", status_code=400)

    def test_crops_are_grouped_per_person_with_their_heatmaps(self):
        frame = FrameResult.objects.create(
            job=self.job, frame_index=5, timestamp_s=2.0, fake_probability=0.3
        )
        first = PersonResult.objects.create(
            job=self.job, index=0, fake_probability=0.9, frames_seen=1
        )
        second = PersonResult.objects.create(
            job=self.job, index=1, fake_probability=0.3, frames_seen=1, counts_for_video=False
        )
        FaceResult.objects.filter(frame__job=self.job).update(person=first)
        other = FaceResult(
            frame=frame,
            person=second,
            box_x=0,
            box_y=0,
            box_w=9,
            box_h=9,
            raw_score=0.3,
            fake_probability=0.3,
        )
        other.crop.save("x.jpg", ContentFile(b"\xff\xd8\xff\xd9"), save=True)
        heatmap = HeatmapOverlay(face=other, model_version=self.job.model_version)
        heatmap.image.save("h.jpg", ContentFile(b"\xff\xd8\xff\xd9"), save=True)
        page = self.client.get(self.url)
        body = page.content.decode()
        self.assertLess(body.index("Person 1 · p 0.900"), body.index("Person 2 · p 0.300"))
        self.assertContains(page, "seen briefly")
        self.assertContains(page, reverse("moderation:heatmap_image", args=[heatmap.pk]))
        self.assertContains(page, 'class="point person-point person-1"')  # a line per person

    def test_without_person_tracking_all_crops_form_one_group(self):
        self.assertContains(self.client.get(self.url), "All faces")

    def test_heatmaps_are_requested_from_the_worker_on_demand(self):
        from unittest import mock

        with mock.patch("moderation.services.heatmaps_enqueue") as enqueue:
            with self.captureOnCommitCallbacks(execute=True):
                response = self.client.post(
                    reverse("moderation:item_heatmaps", args=[self.item.pk])
                )
        self.assertEqual(response.status_code, 302)
        enqueue.assert_called_once_with(job_id=self.job.id)
