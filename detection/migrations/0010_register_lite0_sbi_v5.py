"""Register lite0_sbi v5 and make it the active version: v2's weights continued on the faces v2
never held out (last 6 blocks, 16,384 fresh self-blended and OpenForensics samples on 2 CPU
cores), served as v3 is (logits, mirror view, mean-logit people), calibrated on v2's held-out
faces. Chosen on those held-out faces before its validation figures were seen (see its card)."""
import json
from pathlib import Path

from django.db import migrations

SPEC = Path(__file__).resolve().parent.parent / "models" / "lite0_sbi_v5.json"


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
        ModelVersion.objects.filter(name="lite0_sbi", version="3").update(is_active=True)


class Migration(migrations.Migration):
    dependencies = [("detection", "0009_register_lite0_sbi_v4")]
    operations = [migrations.RunPython(register, unregister)]
