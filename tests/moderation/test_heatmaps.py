import cv2
import pytest
from django.core.files.base import ContentFile
from django.test import override_settings

from detection import model_cache
from detection.models import FaceResult, FrameResult
from moderation import tasks
from moderation.models import HeatmapOverlay
from tests import media
from tests.base import PlatformTestCase
from tests.factories import model_version_like_active

from .helpers import routed

pytestmark = pytest.mark.slow


class HeatmapTaskTests(PlatformTestCase):
    def setUp(self):
        super().setUp()
        self.item = routed(uploader=self.alice, probability=0.9)
        self.job = self.item.job
        FaceResult.objects.filter(frame__job=self.job).delete()  # the factory's is not a picture
        ok, jpeg = cv2.imencode(".jpg", media.face_image())
        assert ok
        self.faces = []
        for i in range(4):
            frame = FrameResult.objects.create(
                job=self.job, frame_index=10 + i, timestamp_s=float(i), fake_probability=0.2 * i
            )
            face = FaceResult(
                frame=frame,
                box_x=0,
                box_y=0,
                box_w=9,
                box_h=9,
                raw_score=0.5,
                fake_probability=0.2 * i,
            )
            face.crop.save(f"{i}.jpg", ContentFile(jpeg.tobytes()), save=True)
            self.faces.append(face)

    @override_settings(MODERATION_HEATMAP_CROPS=3)
    def test_the_task_draws_heatmaps_over_the_most_suspicious_crops_once(self):
        self.assertEqual(tasks.heatmaps_compute(str(self.job.id)), 3)
        covered = set(HeatmapOverlay.objects.values_list("face_id", flat=True))
        self.assertEqual(covered, {f.id for f in self.faces[1:]})  # not the least suspicious
        overlay = HeatmapOverlay.objects.first()
        with overlay.image.open("rb") as fh:
            self.assertEqual(fh.read(2), b"\xff\xd8")
        self.assertEqual(overlay.model_version, self.job.model_version)
        # Asked again (on demand, or a second worker): nothing is computed twice; the crop
        # left out is next.
        self.assertEqual(tasks.heatmaps_compute(str(self.job.id)), 1)
        self.assertEqual(tasks.heatmaps_compute(str(self.job.id)), 0)

    def test_a_missing_crop_file_is_skipped(self):
        self.faces[3].crop.delete(save=False)
        self.assertEqual(tasks.heatmaps_compute(str(self.job.id)), 3)
        self.assertFalse(HeatmapOverlay.objects.filter(face=self.faces[3]).exists())

    def test_a_version_without_keras_weights_gets_no_heatmaps_and_no_crash(self):
        self.job.model_version = model_version_like_active(
            version="t", weights_file="detection/models/missing.keras"
        )
        self.job.save(update_fields=["model_version"])
        model_cache.models_forget()
        with self.assertLogs("moderation.services", "WARNING") as logs:
            self.assertEqual(tasks.heatmaps_compute(str(self.job.id)), 0)
        self.assertIn("missing.keras", logs.output[0])
        self.assertFalse(HeatmapOverlay.objects.exists())
