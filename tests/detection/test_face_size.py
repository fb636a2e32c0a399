"""How large the faces a verdict rests on were: shown on the job and evidence pages and in the
API, with a caveat when they were smaller than the model looks at."""

from django.core.files.base import ContentFile
from django.test import override_settings
from django.urls import reverse

from detection.models import FaceResult, FrameResult, PersonResult
from detection.selectors import job_face_size
from moderation import services as moderation_services
from tests.api.base import ApiTestCase
from tests.base import PlatformTestCase
from tests.factories import PASSWORD, done_job


def _with_people(job, people):
    """`people`: (probability, counts_for_video, face sides) per person, one face per frame."""
    frame_count = max(len(sides) for _, _, sides in people)
    frames = [
        FrameResult.objects.create(
            job=job, frame_index=i + 1, timestamp_s=i + 1.0, fake_probability=0.5
        )
        for i in range(frame_count)
    ]
    for index, (probability, counts, sides) in enumerate(people):
        person = PersonResult.objects.create(
            job=job,
            index=index,
            fake_probability=probability,
            frames_seen=len(sides),
            counts_for_video=counts,
        )
        for frame, side in zip(frames, sides):
            face = FaceResult(
                frame=frame,
                person=person,
                box_x=0,
                box_y=0,
                box_w=side,
                box_h=side - 4,
                raw_score=0.5,
                fake_probability=probability,
            )
            face.crop.save(
                f"{index}_{frame.frame_index}.jpg", ContentFile(b"\xff\xd8\xff\xd9"), save=True
            )
    return job


class FaceSizeTests(PlatformTestCase):
    def test_it_is_the_median_face_of_the_person_who_decides_the_video(self):
        job = _with_people(
            done_job(uploader=self.alice, probability=0.8),
            [
                (0.2, True, [300, 310, 320]),  # a real bystander, large
                (0.8, True, [60, 70, 200]),  # the suspicious one: median 70
                (0.95, False, [20, 20]),  # a brief false detection does not decide
            ],
        )
        size = job_face_size(job)
        version = job.model_version
        self.assertEqual(size.px, 70)
        self.assertEqual(
            size.model_px, round(version.serving.input_size / (1 + 2 * version.serving.face_margin))
        )
        self.assertTrue(size.small)

    def test_large_faces_are_not_small_and_jobs_without_faces_have_no_size(self):
        job = _with_people(done_job(uploader=self.alice), [(0.9, True, [400, 420, 410])])
        self.assertFalse(job_face_size(job).small)
        self.assertIsNone(
            job_face_size(
                done_job(uploader=self.alice, verdict="no_face", probability=None, faces=False)
            )
        )

    def test_a_job_from_before_people_were_tracked_uses_all_its_faces(self):
        job = done_job(uploader=self.alice)  # one face of 10 px, no person
        self.assertEqual(job_face_size(job).px, 10)

    def test_the_job_page_gives_the_size_and_the_caveat_for_small_faces(self):
        small = _with_people(done_job(uploader=self.alice), [(0.9, True, [50, 52, 54])])
        large = _with_people(done_job(uploader=self.alice), [(0.9, True, [300, 300, 300])])
        self.client.login(username="alice", password=PASSWORD)
        page = self.client.get(reverse("detection:job_detail", args=[small.id]))
        self.assertContains(page, "52 px (median")
        self.assertContains(page, "smaller than the")
        page = self.client.get(reverse("detection:job_detail", args=[large.id]))
        self.assertContains(page, "300 px (median")
        self.assertNotContains(page, "smaller than the")

    def test_the_evidence_page_gives_the_size_too(self):
        job = _with_people(done_job(uploader=self.alice), [(0.9, True, [50, 52, 54])])
        item = moderation_services.review_item_route(job=job)
        self.client.login(username="mod", password=PASSWORD)
        page = self.client.get(reverse("moderation:item_detail", args=[item.pk]))
        self.assertContains(page, "52 px (median")
        self.assertContains(page, "smaller than the")


class FaceSizeApiTests(ApiTestCase):
    # A site that lets uploaders see the scores (the default hides them from uploaders:
    # tests/moderation/test_uploader_visibility.py).
    @override_settings(MODERATION_HIDE_SCORES_FROM_UPLOADERS=False)
    def test_the_job_detail_gives_the_face_size_and_each_persons(self):
        job = _with_people(
            done_job(uploader=self.alice), [(0.3, True, [200, 210, 220]), (0.9, True, [50, 52, 54])]
        )
        self.as_user(self.alice)
        body = self.client.get(reverse("api:job-detail", args=[job.id])).json()
        self.assertEqual(body["face_size"]["px"], 52)
        self.assertTrue(body["face_size"]["small"])
        self.assertEqual([p["face_px"] for p in body["persons"]], [210, 52])
