"""The pipeline's entry point: one function that reads top to bottom."""
from __future__ import annotations

import os
import time
from pathlib import Path

from .aggregate import frame_outcomes, person_outcomes, video_probability, video_verdict
from .classify import KerasFaceClassifier
from .decode import sample_frames
from .faces import FaceDetector, find_faces, make_detector
from .spec import ModelSpec
from .track import people_for_crops
from .types import AnalysisConfig, FaceCrop, SampledFrame, VideoInfo, VideoResult


class Analyser:
    """A loaded model plus a face detector: build once per process, call `analyse()` per video."""

    def __init__(self, spec: ModelSpec, classifier, detector: FaceDetector | None = None,
                 config: AnalysisConfig = AnalysisConfig()):
        self.spec = spec
        self.classifier = classifier
        self.config = config
        self.detector = detector or make_detector(config.face_detector, config)

    @classmethod
    def from_spec_file(cls, spec_path: str | Path, *, weights_path: str | Path | None = None,
                       config: AnalysisConfig = AnalysisConfig()) -> "Analyser":
        spec = ModelSpec.load(spec_path)
        weights = Path(weights_path) if weights_path else spec.weights_path(spec_path)
        return cls(spec, KerasFaceClassifier(spec, weights), config=config)

    def analyse(self, path: str | os.PathLike) -> VideoResult:
        return analyse_video(path, self)


def analyse_video(path: str | os.PathLike, analyser: Analyser) -> VideoResult:
    """decode -> faces -> classify -> aggregate. Raises a PipelineError for unanalysable input."""
    timings: dict[str, float] = {}

    started = time.perf_counter()
    info, frames = sample_frames(path, analyser.config)
    timings["decode"] = time.perf_counter() - started

    # Decoding and face detection in sequence: overlapping them on two threads
    # (decode.sample_frames_overlapped) was no faster on H.264, which FFmpeg already decodes on
    # both cores (bench, within one run each: full/decode 1.44 vs 1.43, 1.48 vs 1.57).
    started = time.perf_counter()
    crops = find_faces(frames, analyser.detector, analyser.spec.face_margin)
    timings["faces"] = time.perf_counter() - started
    return score_faces(info, frames, crops, analyser, timings)


def score_faces(info: VideoInfo, frames: list[SampledFrame], crops: list[FaceCrop],
                analyser: Analyser, timings: dict[str, float]) -> VideoResult:
    """The stages after the faces are found: people (counted in "faces"), classify,
    aggregate; `timings` holds the earlier stages' seconds."""
    timings = dict(timings)
    started = time.perf_counter()
    people = people_for_crops([f.index for f in frames], [c.frame_index for c in crops],
                              [c.box for c in crops])
    timings["faces"] = timings.get("faces", 0.0) + time.perf_counter() - started

    started = time.perf_counter()
    logits = analyser.classifier.logits([c.image for c in crops])
    timings["model"] = time.perf_counter() - started

    started = time.perf_counter()
    outcomes = frame_outcomes(frames, crops, logits, analyser.spec, people)
    persons = person_outcomes(outcomes, analyser.spec)
    probability = video_probability(persons)
    verdict = video_verdict(probability, analyser.spec)
    timings["aggregate"] = time.perf_counter() - started

    return VideoResult(
        verdict=verdict,
        fake_probability=probability,
        frames_sampled=len(frames),
        frames_with_face=sum(1 for o in outcomes if o.faces),
        faces_scored=len(crops),
        frames=outcomes,
        persons=persons,
        info=info,
        timings={k: round(v, 4) for k, v in timings.items()},
    )
