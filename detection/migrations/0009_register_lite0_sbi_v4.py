"""Register lite0_sbi v4, not active: v3's weights served as an int8 LiteRT file (about twice
the faces a second on a CPU core), calibrated on its own scores. An admin can make it the active
version where analysis time matters more than the last hundredth of AUC (see its model card)."""
import json
from pathlib import Path

from django.db import migrations

SPEC = Path(__file__).resolve().parent.parent / "models" / "lite0_sbi_v4.json"


def register(apps, schema_editor):
    ModelVersion = apps.get_model("detection", "ModelVersion")
    spec = json.loads(SPEC.read_text())
    if ModelVersion.objects.filter(name=spec["name"], version=spec["version"]).exists():
        return
    ModelVersion.objects.create(
        name=spec["name"], version=spec["version"], architecture=spec["architecture"],
        weights_path=f"detection/models/{spec['weights_file']}",
        input_size=spec["input_size"], channels=spec["channels"], face_margin=spec["face_margin"],
        calibration_a=spec["calibration_a"], calibration_b=spec["calibration_b"],
        fake_threshold=spec["fake_threshold"], uncertain_low=spec["uncertain_low"],
        uncertain_high=spec["uncertain_high"], test_time_flip=spec["test_time_flip"],
        person_pooling=spec["person_pooling"], metrics=spec.get("metrics", {}),
        notes=spec.get("notes", ""), trained_at=spec.get("trained_at", ""), is_active=False,
    )


def unregister(apps, schema_editor):
    ModelVersion = apps.get_model("detection", "ModelVersion")
    spec = json.loads(SPEC.read_text())
    ModelVersion.objects.filter(name=spec["name"], version=spec["version"], jobs=None,
                                is_active=False).delete()


class Migration(migrations.Migration):
    dependencies = [("detection", "0008_register_lite0_sbi_v3")]
    operations = [migrations.RunPython(register, unregister)]
