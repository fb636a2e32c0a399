"""Register the model shipped in the repository as the active version on a new database."""
import json
from pathlib import Path

from django.db import migrations

SHIPPED_SPEC = Path(__file__).resolve().parent.parent / "models" / "paper_cnn_v1.json"


def register(apps, schema_editor):
    ModelVersion = apps.get_model("detection", "ModelVersion")
    spec = json.loads(SHIPPED_SPEC.read_text())
    if ModelVersion.objects.filter(name=spec["name"], version=spec["version"]).exists():
        return
    ModelVersion.objects.create(
        name=spec["name"], version=spec["version"], architecture=spec["architecture"],
        weights_path=f"detection/models/{spec['weights_file']}",
        input_size=spec["input_size"], channels=spec["channels"], face_margin=spec["face_margin"],
        calibration_a=spec["calibration_a"], calibration_b=spec["calibration_b"],
        fake_threshold=spec["fake_threshold"], uncertain_low=spec["uncertain_low"],
        uncertain_high=spec["uncertain_high"], metrics=spec.get("metrics", {}),
        notes=spec.get("notes", ""), trained_at=spec.get("trained_at", ""),
        is_active=not ModelVersion.objects.filter(is_active=True).exists(),
    )


def unregister(apps, schema_editor):
    ModelVersion = apps.get_model("detection", "ModelVersion")
    spec = json.loads(SHIPPED_SPEC.read_text())
    ModelVersion.objects.filter(name=spec["name"], version=spec["version"], jobs=None).delete()


class Migration(migrations.Migration):
    dependencies = [("detection", "0001_initial")]
    operations = [migrations.RunPython(register, unregister)]
