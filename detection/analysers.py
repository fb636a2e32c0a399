"""One loaded Analyser per model version per worker process.

Loading TensorFlow and a model costs seconds and hundreds of MB: it happens once per process,
on the first job that needs that version, never per job.
"""
from __future__ import annotations

import threading

from django.conf import settings

from detection.pipeline import Analyser, AnalysisConfig
from detection.pipeline.classify import make_classifier
from detection.pipeline.spec import ModelSpec

_lock = threading.Lock()
_cache: dict[tuple, Analyser] = {}


def analysis_config() -> AnalysisConfig:
    return AnalysisConfig(frames_to_sample=settings.DETECTION_FRAMES_TO_SAMPLE,
                          max_duration_s=settings.DETECTION_MAX_DURATION_S,
                          face_detector=settings.DETECTION_FACE_DETECTOR,
                          full_look_every=settings.DETECTION_FULL_LOOK_EVERY)


def analyser_for_spec(spec: ModelSpec, config: AnalysisConfig | None = None) -> Analyser:
    config = config or analysis_config()
    key = (tuple(sorted((k, repr(v)) for k, v in spec.to_dict().items())), config)
    with _lock:
        analyser = _cache.get(key)
        if analyser is None:
            # The LiteRT conversion when one sits beside the weights, else the Keras model.
            classifier = make_classifier(spec, spec.weights_file)
            analyser = Analyser(spec, classifier, config=config)
            # A worker uses one version at a time; drop others so memory stays bounded.
            _cache.clear()
            _cache[key] = analyser
        return analyser


def default_spec() -> ModelSpec:
    """The model shipped in the repository, with its weights path made absolute."""
    path = settings.DETECTION_DEFAULT_MODEL_SPEC
    spec = ModelSpec.load(path)
    return ModelSpec.from_dict({**spec.to_dict(), "weights_file": str(spec.weights_path(path))})
