"""Register lite0_fusion v1 and make it the active version: lite0_sbi v5's weights served with
a second output, a synthesis branch on them, and a combiner fitted on out-of-source branch
scores of the FF++ and generator videos, with confident fake stretches and uncertain reasons
(see its card). v6 stays registered unchanged, so its analyses keep their meaning."""

import json
from pathlib import Path

from django.db import migrations

SPEC = Path(__file__).resolve().parent.parent / "models" / "lite0_fusion_v1.json"


def register(apps, schema_editor):
    ModelVersion = apps.get_model("detection", "ModelVersion")
    spec = json.loads(SPEC.read_text())
    if ModelVersion.objects.filter(name=spec["name"], version=spec["version"]).exists():
        return
    ModelVersion.objects.filter(is_active=True).update(is_active=False)
    ModelVersion.objects.create(
        name=spec["name"],
        version=spec["version"],
        architecture=spec["architecture"],
        weights_path=f"detection/models/{spec['weights_file']}",
        input_size=spec["input_size"],
        channels=spec["channels"],
        face_margin=spec["face_margin"],
        calibration_a=spec["calibration_a"],
        calibration_b=spec["calibration_b"],
        fake_threshold=spec["fake_threshold"],
        uncertain_low=spec["uncertain_low"],
        uncertain_high=spec["uncertain_high"],
        test_time_flip=spec["test_time_flip"],
        person_pooling=spec["person_pooling"],
        video_calibration_a=spec["video_calibration_a"],
        video_calibration_b=spec["video_calibration_b"],
        video_uncertain_low=spec["video_uncertain_low"],
        video_uncertain_high=spec["video_uncertain_high"],
        fusion=spec["fusion"],
        metrics=spec.get("metrics", {}),
        notes=spec.get("notes", ""),
        trained_at=spec.get("trained_at", ""),
        is_active=True,
    )


def unregister(apps, schema_editor):
    ModelVersion = apps.get_model("detection", "ModelVersion")
    spec = json.loads(SPEC.read_text())
    removed, _ = ModelVersion.objects.filter(
        name=spec["name"], version=spec["version"], jobs=None
    ).delete()
    if removed:
        ModelVersion.objects.filter(name="lite0_sbi", version="6").update(is_active=True)


class Migration(migrations.Migration):
    dependencies = [("detection", "0014_fusion_profile_reasons")]
    operations = [migrations.RunPython(register, unregister)]
