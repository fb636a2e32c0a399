"""The repository's model folder holds the weights of the active version and of the paper's
baseline, nothing more: retired versions' weights live in archives (`export_model`)."""

from pathlib import Path

from django.conf import settings

from detection.pipeline.spec import ModelSpec

MODELS = Path(settings.BASE_DIR) / "detection" / "models"
WEIGHT_SUFFIXES = {".keras", ".tflite", ".h5", ".weights", ".npz", ".onnx"}


def _files_of(spec_path: Path) -> set[Path]:
    spec = ModelSpec.load(spec_path)
    files = {spec.weights_path(spec_path)}
    lite = spec.serving_file or spec.serving.get("file")
    if lite:
        files.add(spec.weights_path(spec_path).parent / lite)
    return files


def test_the_model_folder_holds_only_the_active_and_the_baseline_weights():
    shipped = _files_of(Path(settings.DETECTION_DEFAULT_MODEL_SPEC)) | _files_of(
        MODELS / "paper_cnn_v1.json"
    )
    # Detector weights anywhere in the folder except the face finders' own (BlazeFace, the
    # face mesh), which belong to the pipeline and not to a model version.
    present = {
        p
        for p in MODELS.rglob("*")
        if p.suffix in WEIGHT_SUFFIXES and p.parent.name not in ("blazeface", "face_mesh")
    }
    assert present == shipped
    assert all(p.is_file() for p in shipped)
    size = sum(p.stat().st_size for p in present)
    assert size == sum(p.stat().st_size for p in shipped)


def test_every_shipped_spec_pins_its_files():
    for spec_path in sorted(MODELS.glob("*_v[0-9]*.json")):
        if spec_path.name.endswith(".held_out.json"):
            continue
        spec = ModelSpec.load(spec_path)
        assert len(spec.weights_sha256) == 64, spec_path.name
        if spec.serving_file or spec.serving.get("file"):
            assert len(spec.serving_sha256) == 64, spec_path.name
