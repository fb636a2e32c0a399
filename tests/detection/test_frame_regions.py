"""A face cut from the original frame at full resolution, for moderators' enlarged crops."""

import tempfile
from pathlib import Path

import cv2
import numpy as np
from django.core.files.base import ContentFile
from django.urls import reverse

from detection.frame_regions import face_region_jpeg
from detection.models import FaceResult
from tests import media
from tests.base import PlatformTestCase
from tests.factories import PASSWORD
from tests.moderation.helpers import routed


def _clip(path, frames=12):
    # Each frame has its own grey level, so the frame read back can be told from the others.
    images = [np.full((360, 640, 3), 10 * i, np.uint8) for i in range(frames)]
    return media.write_video(path, images, fps=8.0)


def test_it_cuts_the_box_with_its_margin_from_the_right_frame(tmp_path):
    path = _clip(tmp_path / "clip.mp4")
    jpeg = face_region_jpeg(path, frame_index=7, box=(300, 100, 100, 80), margin=0.25)
    image = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert image.shape[:2] == (80 + 50, 100 + 50)
    assert abs(float(image.mean()) - 70) < 6


def test_the_region_stops_at_the_frame_edges_and_bad_input_is_none(tmp_path):
    path = _clip(tmp_path / "clip.mp4")
    image = cv2.imdecode(
        np.frombuffer(face_region_jpeg(path, frame_index=0, box=(600, 340, 60, 60)), np.uint8),
        cv2.IMREAD_COLOR,
    )
    assert image.shape[:2] == (360 - 322, 640 - 582)
    assert face_region_jpeg(path, frame_index=500, box=(0, 0, 10, 10)) is None
    assert face_region_jpeg(tmp_path / "missing.mp4", frame_index=0, box=(0, 0, 10, 10)) is None


class FaceFullViewTests(PlatformTestCase):
    def test_moderators_get_the_full_resolution_region_uploaders_do_not(self):
        item = routed(uploader=self.alice, probability=0.9)
        with tempfile.TemporaryDirectory() as tmp:
            clip = _clip(Path(tmp) / "clip.mp4")
            item.job.video.file.save("clip.mp4", ContentFile(clip.read_bytes()), save=True)
        face = FaceResult.objects.get(frame__job=item.job)
        FaceResult.objects.filter(pk=face.pk).update(box_x=200, box_y=100, box_w=200, box_h=200)
        url = reverse("moderation:face_full", args=[face.pk])
        self.client.login(username="mod", password=PASSWORD)
        response = self.client.get(url)
        self.assertEqual(response["Content-Type"], "image/jpeg")
        image = cv2.imdecode(np.frombuffer(response.content, np.uint8), cv2.IMREAD_COLOR)
        # 200 px box + 60 px margin each side, cut off by the 360 px frame's bottom edge.
        self.assertEqual(image.shape[:2], (360 - 40, 320))
        self.client.login(username="alice", password=PASSWORD)
        self.assertEqual(self.client.get(url).status_code, 403)

    def test_without_a_readable_video_it_falls_back_to_the_stored_crop(self):
        item = routed(uploader=self.alice, probability=0.9)  # the factory's file is no video
        face = FaceResult.objects.get(frame__job=item.job)
        self.client.login(username="mod", password=PASSWORD)
        response = self.client.get(reverse("moderation:face_full", args=[face.pk]))
        self.assertEqual(b"".join(response.streaming_content), b"\xff\xd8\xff\xd9")
