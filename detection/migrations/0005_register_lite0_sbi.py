"""Register the EfficientNet-Lite0 self-blended model shipped in the repository and make it the
active version (it beats the paper's CNN on both validation sets; see its model card)."""
import json
from pathlib import Path

from django.db import migrations

SPEC = Path(__file__).resolve().parent.parent / "models" / "lite0_sbi_v1.json"


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
        uncertain_high=spec["uncertain_high"], metrics=spec.get("metrics", {}),
        notes=spec.get("notes", ""), trained_at=spec.get("trained_at", ""), is_active=True,
    )


def unregister(apps, schema_editor):
    ModelVersion = apps.get_model("detection", "ModelVersion")
    spec = json.loads(SPEC.read_text())
    removed, _ = ModelVersion.objects.filter(name=spec["name"], version=spec["version"],
                                             jobs=None).delete()
    if removed:
        ModelVersion.objects.filter(name="paper_cnn", version="1").update(is_active=True)


class Migration(migrations.Migration):
    dependencies = [("detection", "0004_merge_0003_api_webhooks_0003_person_results")]
    operations = [migrations.RunPython(register, unregister)]
