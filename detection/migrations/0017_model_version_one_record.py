"""A model version becomes one record: a name, a version, a state and one spec.

The twenty columns that repeated the pipeline's `ModelSpec` fold into one checked JSON `spec`
(its serving config); `metrics["serving"]`, which was serving config, moves into it; the
weights' SHA-256 are pinned in it. `is_active` becomes a state (candidate, shadow, active,
retired). Analyses record the config, the frames and the weights' SHA-256 they ran with, and
shadow versions' scores get a table of their own. From here on a release is a `register_model`
or an admin form, never a migration.

Each row's spec is built from its own columns (what its analyses were made with), never from
the file of the same name, which may have moved on since; the file only fills in what the
row never stored (the SHA-256, the card, a serving record kept outside the metrics).
"""

import hashlib
import json
from pathlib import Path

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models
from django.db.models import Q

MODELS_DIR = Path(__file__).resolve().parent.parent / "models"


# The columns that become the spec's fields of the same name (weights_path becomes
# weights_file; is_active becomes the state).
SPEC_COLUMNS = (
    "architecture",
    "input_size",
    "channels",
    "face_margin",
    "calibration_a",
    "calibration_b",
    "fake_threshold",
    "uncertain_low",
    "uncertain_high",
    "test_time_flip",
    "person_pooling",
    "video_calibration_a",
    "video_calibration_b",
    "video_uncertain_low",
    "video_uncertain_high",
    "fusion",
)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _resolve(path: str) -> Path:
    p = Path(path)
    return p if p.is_absolute() else Path(settings.BASE_DIR) / p


def _shipped(row) -> dict:
    path = MODELS_DIR / f"{row.name}_v{row.version}.json"
    if not path.is_file():
        return {}
    data = json.loads(path.read_text())
    return data if (data.get("name"), str(data.get("version"))) == (row.name, row.version) else {}


def _pinned(shipped: dict, key: str, file_key: str, path: Path) -> str:
    """The SHA-256 the shipped spec pins for this file, else the file's own, else ""."""
    if shipped.get(key) and Path(shipped.get(file_key) or "").name == path.name:
        return shipped[key]
    return _sha256(path) if path.is_file() else ""


def forwards(apps, schema_editor):
    ModelVersion = apps.get_model("detection", "ModelVersion")
    active = ModelVersion.objects.filter(is_active=True).first()
    for row in ModelVersion.objects.all():
        shipped = _shipped(row)
        metrics = dict(row.metrics or {})
        serving = metrics.pop("serving", None) or shipped.get("serving") or {}
        weights = _resolve(row.weights_path)
        serving_name = serving.get("file") or ""
        serving_path = weights.parent / serving_name if serving_name else None
        shipped_serving = {**shipped, "serving_file": shipped.get("serving_file") or ""}
        row.spec = {
            "name": row.name,
            "version": row.version,
            **{column: getattr(row, column) for column in SPEC_COLUMNS},
            "weights_file": row.weights_path,
            "serving_file": "",
            "serving": serving,
            "weights_sha256": _pinned(shipped, "weights_sha256", "weights_file", weights),
            "serving_sha256": (
                _pinned(shipped_serving, "serving_sha256", "serving_file", serving_path)
                if serving_path is not None
                else ""
            ),
        }
        row.metrics = metrics
        card = MODELS_DIR / f"{row.name}_v{row.version}.md"
        row.card = card.read_text() if shipped and card.is_file() else ""
        if row.is_active:
            row.state = "active"
        elif active is not None and row.created_at <= active.created_at:
            row.state = "retired"  # superseded by the active version
        else:
            row.state = "candidate"
        row.save()


def backwards(apps, schema_editor):
    ModelVersion = apps.get_model("detection", "ModelVersion")
    for row in ModelVersion.objects.all():
        spec = row.spec
        for key in SPEC_COLUMNS:
            setattr(row, key, spec[key])
        row.weights_path = spec["weights_file"]
        if spec.get("serving"):
            row.metrics = {**row.metrics, "serving": spec["serving"]}
        row.is_active = row.state == "active"
        row.save()




class Migration(migrations.Migration):
    dependencies = [("detection", "0016_job_attempts_heartbeat")]

    operations = [
        migrations.AddField(
            model_name="modelversion",
            name="state",
            field=models.CharField(
                choices=[
                    ("candidate", "Candidate (registered, scores nothing)"),
                    (
                        "shadow",
                        "Shadow (scores uploads beside the active version; decides nothing)",
                    ),
                    ("active", "Active (decides new analyses)"),
                    ("retired", "Retired"),
                ],
                db_index=True,
                default="candidate",
                max_length=16,
            ),
        ),
        migrations.AddField(
            model_name="modelversion",
            name="spec",
            field=models.JSONField(null=True),
        ),
        migrations.AddField(
            model_name="modelversion",
            name="card",
            field=models.TextField(blank=True, help_text="The model card (Markdown)."),
        ),
        migrations.AddField(
            model_name="modelversion",
            name="derived_from",
            field=models.ForeignKey(
                blank=True,
                help_text="The version whose weights this one serves with new numbers.",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="derived",
                to="detection.modelversion",
            ),
        ),
        # Defaults, so that going back can add the columns again to existing rows.
        migrations.AlterField(
            model_name="modelversion",
            name="architecture",
            field=models.CharField(default="", max_length=64),
        ),
        migrations.AlterField(
            model_name="modelversion",
            name="weights_path",
            field=models.CharField(default="", max_length=500),
        ),
        migrations.RunPython(forwards, backwards),
        migrations.RemoveConstraint(model_name="modelversion", name="one_active_model_version"),
        migrations.RemoveConstraint(
            model_name="modelversion", name="model_uncertain_band_ordered"
        ),
        migrations.RemoveConstraint(model_name="modelversion", name="model_video_band_ordered"),
        *[
            migrations.RemoveField(model_name="modelversion", name=name)
            for name in (*SPEC_COLUMNS, "weights_path", "is_active")
        ],
        migrations.AlterField(
            model_name="modelversion",
            name="spec",
            field=models.JSONField(
                help_text="The serving config (detection.pipeline.spec.ModelSpec, without "
                "metrics, notes and training date). Weights paths are relative to the project "
                "folder or absolute."
            ),
        ),
        migrations.AddConstraint(
            model_name="modelversion",
            constraint=models.UniqueConstraint(
                condition=Q(state="active"), fields=("state",), name="one_active_model_version"
            ),
        ),
        migrations.AddField(
            model_name="analysisjob",
            name="config",
            field=models.JSONField(
                blank=True,
                default=dict,
                help_text="The analysis config it ran with (frames, face detector, looks, "
                "profile).",
            ),
        ),
        migrations.AddField(
            model_name="analysisjob",
            name="frame_indices",
            field=models.JSONField(
                blank=True, default=list, help_text="The indices of the frames it sampled."
            ),
        ),
        migrations.AddField(
            model_name="analysisjob",
            name="weights_sha256",
            field=models.CharField(
                blank=True, help_text="SHA-256 of the model file that scored it.", max_length=64
            ),
        ),
        migrations.AddField(
            model_name="analysisjob",
            name="reanalysis_of",
            field=models.ForeignKey(
                blank=True,
                help_text="The job this one repeats with the same version, config and frames.",
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="reanalyses",
                to="detection.analysisjob",
            ),
        ),
        migrations.CreateModel(
            name="ShadowResult",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("queued", "Queued"),
                            ("running", "Running"),
                            ("done", "Done"),
                            ("failed", "Failed"),
                        ],
                        default="queued",
                        max_length=16,
                    ),
                ),
                (
                    "verdict",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("fake", "Fake"),
                            ("real", "Real"),
                            ("uncertain", "Uncertain"),
                            ("no_face", "No face found"),
                        ],
                        max_length=16,
                    ),
                ),
                ("fake_probability", models.FloatField(blank=True, null=True)),
                ("reasons", models.JSONField(blank=True, default=list)),
                ("config", models.JSONField(blank=True, default=dict)),
                ("frame_indices", models.JSONField(blank=True, default=list)),
                ("weights_sha256", models.CharField(blank=True, max_length=64)),
                ("timings", models.JSONField(blank=True, default=dict)),
                ("error_code", models.CharField(blank=True, max_length=32)),
                ("error", models.TextField(blank=True)),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("finished_at", models.DateTimeField(blank=True, null=True)),
                (
                    "job",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="shadow_results",
                        to="detection.analysisjob",
                    ),
                ),
                (
                    "model_version",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="shadow_results",
                        to="detection.modelversion",
                    ),
                ),
            ],
            options={
                "ordering": ["-created_at"],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("job", "model_version"),
                        name="one_shadow_result_per_job_and_version",
                    )
                ],
            },
        ),
    ]
