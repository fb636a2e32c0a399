import json

import numpy as np
import pytest
from django.conf import settings
from django.db import IntegrityError, transaction

from detection.models import ModelVersion
from detection.pipeline.spec import ModelSpec
from detection.services import model_version_activate, model_version_register

pytestmark = pytest.mark.django_db


def test_the_shipped_model_is_registered_and_active_on_a_new_database():
    active = ModelVersion.objects.get(state="active")
    shipped = ModelSpec.load(settings.DETECTION_DEFAULT_MODEL_SPEC)
    assert (active.name, active.version) == (shipped.name, shipped.version)
    assert active.architecture == "efficientnet_lite0"
    # The paper's CNN stays registered (its jobs keep their version), retired.
    assert ModelVersion.objects.filter(name="paper_cnn", version="1", state="retired").exists()
    # Its record is the shipped spec's serving config, the weights' SHA-256 pinned.
    paths = ("weights_file", "serving_file")
    assert {k: v for k, v in active.spec.items() if k not in paths} == {
        k: v for k, v in shipped.serving_config().items() if k not in paths
    }
    assert active.spec["weights_file"] == f"detection/models/{shipped.weights_file}"
    assert len(active.spec["serving_sha256"]) == 64
    assert active.resolved_weights_path.is_file()
    assert active.metrics["frames"]["auc"] > 0.5


def _spec_copy(tmp_path, version):
    from django.conf import settings

    spec = json.loads(settings.DETECTION_DEFAULT_MODEL_SPEC.read_text())
    spec["version"] = version
    spec["weights_file"] = str(
        ModelSpec.load(settings.DETECTION_DEFAULT_MODEL_SPEC).weights_path(
            settings.DETECTION_DEFAULT_MODEL_SPEC
        )
    )
    path = tmp_path / f"m{version}.json"
    path.write_text(json.dumps(spec))
    return path


def test_activating_a_version_deactivates_the_others(tmp_path):
    before = ModelVersion.objects.get(state="active")
    new = model_version_register(spec_path=_spec_copy(tmp_path, "test-2"))
    assert not new.is_active and new.state == "candidate"
    model_version_activate(model_version=new)
    assert list(ModelVersion.objects.filter(state="active")) == [new]
    before.refresh_from_db()
    assert before.state == "retired"


def test_the_database_refuses_two_active_versions(tmp_path):
    new = model_version_register(spec_path=_spec_copy(tmp_path, "test-3"))
    with pytest.raises(IntegrityError), transaction.atomic():
        ModelVersion.objects.filter(pk=new.pk).update(state="active")


def test_registering_a_spec_without_weights_is_refused(tmp_path):
    from django.core.exceptions import ValidationError

    path = _spec_copy(tmp_path, "test-4")
    spec = json.loads(path.read_text())
    spec["weights_file"] = str(tmp_path / "missing.keras")
    path.write_text(json.dumps(spec))
    with pytest.raises(ValidationError, match="No file"):
        model_version_register(spec_path=path)


def test_how_a_version_serves_its_scores_travels_from_spec_to_registry_and_back(tmp_path):
    path = _spec_copy(tmp_path, "test-5")
    spec = json.loads(path.read_text())
    spec.update(test_time_flip=True, person_pooling="mean_logit")
    path.write_text(json.dumps(spec))
    row = model_version_register(spec_path=path)
    assert (row.serving.test_time_flip, row.serving.person_pooling) == (True, "mean_logit")
    assert (row.to_spec().test_time_flip, row.to_spec().person_pooling) == (True, "mean_logit")


def test_the_active_version_serves_as_its_shipped_spec_says():
    active = ModelVersion.objects.get(state="active").to_spec()
    shipped = ModelSpec.load(settings.DETECTION_DEFAULT_MODEL_SPEC)
    assert (active.test_time_flip, active.person_pooling) == (
        shipped.test_time_flip,
        shipped.person_pooling,
    )
    # Versions registered before these options keep scoring as they did.
    v2 = ModelVersion.objects.get(name="lite0_sbi", version="2").to_spec()
    assert (v2.test_time_flip, v2.person_pooling) == (False, "mean_probability")


def test_the_admin_lists_each_versions_aucs_with_their_intervals():
    import re

    from django.contrib import admin

    active = ModelVersion.objects.get(state="active")
    listing = admin.site._registry[ModelVersion]
    frames, videos = listing.frame_auc(active), listing.video_auc(active)
    video_block = active.metrics["videos"]["overall"]
    assert videos.startswith(f"{video_block['auc']:.3f} (")
    for text in (frames, videos):
        assert re.fullmatch(r"0\.\d{3} \(0\.\d{2}-[01]\.\d{2}\)", text), text
    # A version evaluated before intervals were reported shows the figure alone.
    old = ModelVersion(name="x", version="1", spec={}, metrics={"frames": {"auc": 0.7}})
    assert listing.frame_auc(old) == "0.700" and listing.video_auc(old) == "n/a"


def test_the_int8_version_is_registered_inactive_and_serves_its_own_file():
    from detection.model_cache import analyser_for_spec
    from detection.pipeline.classify import LiteRTFaceClassifier

    row = ModelVersion.objects.get(name="lite0_sbi", version="4")
    assert row.state == "retired"
    assert row.serving.serving["quantization"] == "int8"
    assert "serving" not in row.metrics  # serving config, apart from the metrics
    classifier = analyser_for_spec(row.to_spec()).classifier
    assert isinstance(classifier, LiteRTFaceClassifier)
    assert classifier.path.name == "lite0_sbi_v4.tflite"
    # v3's weights, calibrated anew on the int8 scores.
    v3 = ModelVersion.objects.get(name="lite0_sbi", version="3")
    assert row.resolved_weights_path == v3.resolved_weights_path
    assert (row.serving.calibration_a, row.serving.calibration_b) != (
        v3.serving.calibration_a,
        v3.serving.calibration_b,
    )


def test_a_video_calibration_travels_from_spec_to_registry_and_back(tmp_path):
    path = _spec_copy(tmp_path, "test-6")
    spec = json.loads(path.read_text())
    spec.update(
        person_pooling="mean_logit",
        video_calibration_a=0.5,
        video_calibration_b=0.4,
        video_uncertain_low=0.25,
        video_uncertain_high=0.67,
    )
    path.write_text(json.dumps(spec))
    row = model_version_register(spec_path=path)
    assert row.video_band == (0.25, 0.67)
    served = row.to_spec()
    assert row.spec["video_calibration_a"] == 0.5  # one record: the spec itself
    assert (served.video_calibration_a, served.video_calibration_b) == (0.5, 0.4)
    assert served.calibrate_person_logit(0.0) == pytest.approx(1 / (1 + np.exp(-0.4)))


def test_an_inconsistent_video_calibration_is_refused_by_the_registry(tmp_path):
    from django.core.exceptions import ValidationError

    path = _spec_copy(tmp_path, "test-7")
    row = model_version_register(spec_path=path)
    good = row.spec
    row.spec = {**good, "video_calibration_a": -1.0, "video_calibration_b": 0.0}
    with pytest.raises(ValidationError, match="positive"):
        row.full_clean()
    row.spec = {**good, "video_uncertain_low": 0.8, "video_uncertain_high": 0.2}
    with pytest.raises(ValidationError, match="video band"):
        row.full_clean()


def test_the_active_version_calibrates_videos_apart_from_faces_and_v5_is_unchanged():
    active = ModelVersion.objects.get(state="active")
    v5 = ModelVersion.objects.get(name="lite0_sbi", version="5")
    v6 = ModelVersion.objects.get(name="lite0_sbi", version="6")
    assert active.resolved_weights_path == v5.resolved_weights_path
    # The fused version gives videos their probability with its combiner and its own band.
    assert active.serving.fusion is not None and active.video_band != active.face_band
    assert (active.serving.calibration_a, active.serving.calibration_b) == (
        v5.serving.calibration_a,
        v5.serving.calibration_b,
    )
    assert active.metrics["fusion_fit"]["n"] == active.metrics["videos"]["overall"]["n"]
    # v5's and v6's analyses keep their meaning: neither is fused, v5 has no video calibration.
    assert v5.serving.video_calibration_a is None and v5.video_band == v5.face_band
    assert v6.serving.fusion is None and v6.serving.video_calibration_a is not None
    assert v6.metrics["video_calibration"]["n"] == v6.metrics["videos"]["overall"]["n"]
