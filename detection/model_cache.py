"""Loaded models, one per model version per worker process.

Loading TensorFlow and a model costs seconds and hundreds of MB: it happens once per process,
on the first job that needs that version, never per job. Two caches: the Analysers that score
videos (the last DETECTION_ANALYSERS_CACHED used, 2 by default: the active version and one
shadow version, so a shadow score does not reload the active model), and the one Keras model
Grad-CAM heatmaps need.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import fields
from pathlib import Path

from django.conf import settings

from detection.pipeline import Analyser, AnalysisConfig, classify
from detection.pipeline.classify import make_classifier
from detection.pipeline.errors import ModelLoadError
from detection.pipeline.spec import ModelSpec

_lock = threading.Lock()
_cache: OrderedDict[tuple, Analyser] = OrderedDict()  # least recently used first
_keras_lock = threading.Lock()
_keras_cache: dict[str, object] = {}


def analysis_config(profile: str = "default") -> AnalysisConfig:
    """The worker's configuration for a speed profile: "default" follows the DETECTION_*
    settings; "thorough" is the profile's own frames and looks (AnalysisConfig.for_profile)."""
    base = dict(
        max_duration_s=settings.DETECTION_MAX_DURATION_S,
        face_detector=settings.DETECTION_FACE_DETECTOR,
    )
    if profile == "default":
        return AnalysisConfig(
            frames_to_sample=settings.DETECTION_FRAMES_TO_SAMPLE,
            full_look_every=settings.DETECTION_FULL_LOOK_EVERY,
            **base,
        )
    return AnalysisConfig.for_profile(profile, **base)


def config_from_record(record: dict) -> AnalysisConfig:
    """The config an analysis recorded (`AnalysisJob.config`), to run it again as it ran."""
    known = {f.name for f in fields(AnalysisConfig)}
    return AnalysisConfig(**{k: v for k, v in record.items() if k in known})


def served_file(spec: ModelSpec) -> tuple[Path, str]:
    """The file a version scores with (its LiteRT conversion, else its weights) and the
    SHA-256 its spec pins for it ("" where it pins none)."""
    try:
        lite = classify.serving_path(spec, spec.weights_file)
    except ModelLoadError:  # named, not here: archived with the rest of a retired version
        name = spec.serving_file or spec.serving.get("file", "")
        return Path(spec.weights_file).parent / name, spec.serving_sha256
    if lite is not None:
        return lite, spec.serving_sha256
    return Path(spec.weights_file), spec.weights_sha256


def _check_pinned(spec: ModelSpec) -> str:
    """The served file's SHA-256; ModelLoadError where it is not the file the spec pins."""
    path, pinned = served_file(spec)
    if not path.is_file():
        raise ModelLoadError(
            f"The weights of {spec.name} v{spec.version} are not on this server ({path}): "
            "import its archive (manage.py import_model)."
        )
    actual = classify.file_sha256(path)
    if pinned and actual != pinned:
        raise ModelLoadError(
            f"{path.name} is not the file {spec.name} v{spec.version} was registered with "
            f"(SHA-256 {actual[:12]}..., registered {pinned[:12]}...): its results would not "
            "mean what they meant; restore the file or register a new version."
        )
    return actual


def analyser_for_spec(spec: ModelSpec, config: AnalysisConfig | None = None) -> Analyser:
    """The loaded analyser of a version and config; its `weights_sha256` is the SHA-256 of the
    file that scores, checked against the one the version pins."""
    config = config or analysis_config()
    # Every field's value, read in place (asdict would deep-copy a fused version's weights).
    key = (tuple((f.name, repr(getattr(spec, f.name))) for f in fields(spec)), config)
    with _lock:
        analyser = _cache.get(key)
        if analyser is not None:
            _cache.move_to_end(key)
        else:
            sha = _check_pinned(spec)
            # The LiteRT conversion when one sits beside the weights, else the Keras model.
            classifier = make_classifier(spec, spec.weights_file)
            analyser = Analyser(spec, classifier, config=config)
            analyser.weights_sha256 = sha
            # Keep the last few versions used (active + shadow); drop the least recently used
            # beyond that, so memory stays bounded.
            _cache[key] = analyser
            while len(_cache) > _analysers_cached():
                _cache.popitem(last=False)
        return analyser


def keras_model_for_spec(spec: ModelSpec):
    """The Keras model of a version (for Grad-CAM, which needs gradients).

    Heatmaps run on the Keras model even where the analyser scores with a converted (LiteRT)
    file. Raises ModelLoadError when the version has no Keras weights.
    """
    key = str(spec.weights_file)
    with _keras_lock:
        model = _keras_cache.get(key)
        if model is None:
            model = classify.KerasFaceClassifier(spec, spec.weights_file).model
            _keras_cache.clear()
            _keras_cache[key] = model
        return model


def _analysers_cached() -> int:
    return max(1, int(getattr(settings, "DETECTION_ANALYSERS_CACHED", 2)))


def analysers_loaded() -> int:
    """How many analysers this process holds (at most DETECTION_ANALYSERS_CACHED)."""
    with _lock:
        return len(_cache)


def models_forget() -> None:
    """Drop every loaded model (the next use loads it again)."""
    with _lock, _keras_lock:
        _cache.clear()
        _keras_cache.clear()


def default_spec() -> ModelSpec:
    """The model shipped in the repository, with its weights path made absolute."""
    path = settings.DETECTION_DEFAULT_MODEL_SPEC
    spec = ModelSpec.load(path)
    return ModelSpec.from_dict({**spec.to_dict(), "weights_file": str(spec.weights_path(path))})
