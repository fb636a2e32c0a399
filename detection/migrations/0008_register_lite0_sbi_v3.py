"""Register lite0_sbi v3 and make it the active version: v2's weights served as logits (no
float32 saturation), each face scored with its mirror image, people pooled by mean logit, and
calibration refitted on those logits (see its model card)."""
import json
from pathlib import Path

from django.db import migrations

SPEC = Path(__file__).resolve().parent.parent / "models" / "lite0_sbi_v3.json"


def register(apps, schema_editor):
    ModelVersion = apps.get_model("detection", "ModelVersion")
    spec = json.loads(SPEC.read_text())
    if ModelVersion.objects.filter(name=spec["name"], version=spec["version"]).exists():
        return
    ModelVersion.objects.filter(is_active=True).update(is_active=False)
    ModelVersion.objects.create(
        name=spec["name"], version=spec["version"], architecture=spec["architecture"],
        weights_path=f"detection/models/{spec['weights_file']}",
        input_size=spec["input_size"], channels=spec["channels"], face_margin=spec["face_margin"],
        calibration_a=spec["calibration_a"], calibration_b=spec["calibration_b"],
        fake_threshold=spec["fake_threshold"], uncertain_low=spec["uncertain_low"],
        uncertain_high=spec["uncertain_high"], test_time_flip=spec["test_time_flip"],
        person_pooling=spec["person_pooling"], metrics=spec.get("metrics", {}),
        notes=spec.get("notes", ""), trained_at=spec.get("trained_at", ""), is_active=True,
    )


def unregister(apps, schema_editor):
    ModelVersion = apps.get_model("detection", "ModelVersion")
    spec = json.loads(SPEC.read_text())
    removed, _ = ModelVersion.objects.filter(name=spec["name"], version=spec["version"],
                                             jobs=None).delete()
    if removed:
        ModelVersion.objects.filter(name="lite0_sbi", version="2").update(is_active=True)


class Migration(migrations.Migration):
    dependencies = [("detection", "0007_model_serving_options")]
    operations = [migrations.RunPython(register, unregister)]
