from django.urls import reverse

from detection.models import ModelVersion
from tests.factories import model_version_like_active

from .base import ApiTestCase


class ModelVersionApiTests(ApiTestCase):
    def setUp(self):
        super().setUp()
        self.active = ModelVersion.objects.get(state="active")
        self.old = model_version_like_active(
            name="paper_cnn",
            version="0",
            architecture="cnn",
            weights_file="x.keras",
            fusion=None,
            person_pooling="mean_probability",
            video_calibration_a=None,
            video_calibration_b=None,
            video_uncertain_low=None,
            video_uncertain_high=None,
        )
        ModelVersion.objects.filter(pk=self.old.pk).update(metrics={"frame_auc": 0.7})

    def test_every_role_lists_versions_with_metrics_and_which_is_active(self):
        for user in (self.alice, self.mod, self.root):
            self.as_user(user)
            body = self.client.get(reverse("api:model-version-list")).json()
            by_id = {v["id"]: v for v in body["results"]}
            # Every registered version: the shipped ones (one active) and the one made here.
            self.assertEqual(set(by_id), set(ModelVersion.objects.values_list("id", flat=True)))
            self.assertIn(self.old.id, by_id)
            self.assertEqual([v["id"] for v in by_id.values() if v["is_active"]], [self.active.id])
            self.assertTrue(by_id[self.active.id]["is_active"])
            self.assertFalse(by_id[self.old.id]["is_active"])
            self.assertEqual(by_id[self.old.id]["metrics"], {"frame_auc": 0.7})
            self.assertNotIn("weights_file", by_id[self.old.id])  # a server path stays private
            self.assertNotIn("spec", by_id[self.old.id])

    def test_detail_and_active(self):
        self.as_user(self.alice)
        body = self.client.get(reverse("api:model-version-detail", args=[self.old.id])).json()
        self.assertEqual((body["name"], body["version"]), ("paper_cnn", "0"))
        body = self.client.get(reverse("api:model-version-active")).json()
        self.assertEqual(body["id"], self.active.id)

    def test_a_version_says_which_band_its_video_verdicts_use(self):
        self.as_user(self.alice)
        body = self.client.get(reverse("api:model-version-active")).json()
        self.assertEqual(
            (body["video_uncertain_low"], body["video_uncertain_high"]), self.active.video_band
        )
        self.assertEqual(body["video_calibration_a"], self.active.serving.video_calibration_a)
        # A version without a video calibration: null, and its face band serves videos too.
        body = self.client.get(reverse("api:model-version-detail", args=[self.old.id])).json()
        self.assertIsNone(body["video_calibration_a"])
        self.assertEqual(
            (body["video_uncertain_low"], body["video_uncertain_high"]),
            (self.old.uncertain_low, self.old.uncertain_high),
        )

    def test_unknown_version_and_no_active_version_are_404(self):
        self.as_user(self.alice)
        self.assertError(
            self.client.get(reverse("api:model-version-detail", args=[999999])), 404, "not_found"
        )
        ModelVersion.objects.update(state="retired")
        self.assertError(self.client.get(reverse("api:model-version-active")), 404, "not_found")

    def test_anonymous_is_refused(self):
        self.assertError(
            self.client.get(reverse("api:model-version-list")), 401, "not_authenticated"
        )

    def test_versions_are_read_only(self):
        self.as_user(self.root)
        response = self.client.post(reverse("api:model-version-list"), {"name": "x"})
        self.assertError(response, 405, "method_not_allowed")
