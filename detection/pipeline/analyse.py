"""The pipeline's entry point: one function that reads top to bottom,
decode -> faces -> people -> classify -> aggregate."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import numpy as np

from .aggregate import (
    frame_outcomes,
    fused_frame_outcomes,
    fused_person_outcomes,
    fused_verdict,
    person_outcomes,
    video_probability,
    video_verdict,
)
from .classify import KerasFaceClassifier, is_quantized, make_classifier
from .decode import sample_frames
from .faces import FaceDetector, find_faces, make_detector
from .fusion import BranchScorer
from .overlap import overlapped_stages
from .people import people_for_crops
from .spec import ModelSpec
from .timing import timed
from .types import AnalysisConfig, FaceCrop, SampledFrame, VideoInfo, VideoResult


class Analyser:
    """A loaded model plus a face detector: build once per process, call `analyse()` per video."""

    def __init__(
        self,
        spec: ModelSpec,
        classifier,
        detector: FaceDetector | None = None,
        config: AnalysisConfig = AnalysisConfig(),
    ):
        self.spec = spec
        # The SHA-256 of the file that scores, where the loader checked it (model_cache).
        self.weights_sha256 = ""
        if spec.fusion_spec is not None and not isinstance(classifier, BranchScorer):
            classifier = BranchScorer(classifier, spec.fusion_spec)
        self.classifier = classifier
        self.config = config
        self.detector = detector or make_detector(config.face_detector, config)
        self._helper_stages = None

    def helper_stages(self):
        """(detector, classifier) giving the same results on one CPU thread, for the
        pipeline's idle-time helper; made once, on first use."""
        if self._helper_stages is None:
            self._helper_stages = (
                _single_threaded(self.detector),
                _single_threaded(self.classifier),
            )
        return self._helper_stages

    @classmethod
    def from_spec_file(
        cls,
        spec_path: str | Path,
        *,
        weights_path: str | Path | None = None,
        config: AnalysisConfig = AnalysisConfig(),
    ) -> Analyser:
        """The version's Keras model; for an int8 version, its int8 file (the scores its
        calibration was fitted on)."""
        spec = ModelSpec.load(spec_path)
        weights = Path(weights_path) if weights_path else spec.weights_path(spec_path)
        if is_quantized(spec):
            return cls(spec, make_classifier(spec, weights, prefer="litert"), config=config)
        return cls(spec, KerasFaceClassifier(spec, weights), config=config)

    def analyse(self, path: str | os.PathLike) -> VideoResult:
        return analyse_video(path, self)


def _single_threaded(stage):
    """The stage's one-thread twin where it has one (LiteRT, BlazeFace), else the stage."""
    make = getattr(stage, "single_threaded", None)
    return make() if make is not None else stage


def analyse_video(
    path: str | os.PathLike, analyser: Analyser, *, overlap: bool | None = None
) -> VideoResult:
    """decode -> faces -> people -> classify -> aggregate. Raises a PipelineError for
    unanalysable input.

    With `overlap` (by default `AnalysisConfig.overlap_stages`) decode, faces and classify run
    at once, on the CPU time FFmpeg leaves idle (overlap.py), for the same result as one after
    another.
    """
    spec, config = analyser.spec, analyser.config
    timings: dict[str, float] = {}
    if config.overlap_stages if overlap is None else overlap:
        info, frames, crops, logits = overlapped_stages(path, analyser, timings)
        with timed(timings, "people"):
            people = find_people(frames, crops)
    else:
        with timed(timings, "decode"):
            info, frames = sample_frames(path, config)
        with timed(timings, "faces"):
            crops = find_faces(frames, analyser.detector, spec.face_margin, config.full_look_every)
        with timed(timings, "people"):
            people = find_people(frames, crops)
        with timed(timings, "model"):
            logits = classify_faces(analyser.classifier, crops)
    info = replace(info, size_bytes=_size(path))
    return aggregate_result(info, frames, crops, people, logits, spec, timings, config.profile)


def _size(path) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def analyse_video_sequential(path: str | os.PathLike, analyser: Analyser) -> VideoResult:
    """The same analysis with every stage after the previous one (no second thread)."""
    return analyse_video(path, analyser, overlap=False)


def score_faces(
    info: VideoInfo,
    frames: list[SampledFrame],
    crops: list[FaceCrop],
    analyser: Analyser,
    timings: dict[str, float],
) -> VideoResult:
    """The stages after faces were found elsewhere: people, classify, aggregate; `timings`
    holds the earlier stages' seconds."""
    timings = dict(timings)
    with timed(timings, "people"):
        people = find_people(frames, crops)
    with timed(timings, "model"):
        logits = classify_faces(analyser.classifier, crops)
    return aggregate_result(
        info, frames, crops, people, logits, analyser.spec, timings, analyser.config.profile
    )


def find_people(frames: list[SampledFrame], crops: list[FaceCrop]) -> list[int]:
    """People stage: the person index of each crop (people.py)."""
    return people_for_crops(
        [f.index for f in frames], [c.frame_index for c in crops], [c.box for c in crops]
    )


def classify_faces(classifier, crops: list[FaceCrop]) -> np.ndarray:
    """Classify stage: one logit per crop."""
    return classifier.logits([c.image for c in crops])


def aggregate_result(
    info: VideoInfo,
    frames: list[SampledFrame],
    crops: list[FaceCrop],
    people: list[int],
    logits: np.ndarray,
    spec: ModelSpec,
    timings: dict[str, float],
    profile: str = "default",
) -> VideoResult:
    """Aggregate stage: per-face scores, per-person and per-video probability and verdict."""
    timings = dict(timings)
    reasons = ()
    with timed(timings, "aggregate"):
        if logits.ndim == 2:  # a fused version: blend, synthesis, features per face
            fusion = spec.fusion_spec
            outcomes = fused_frame_outcomes(frames, crops, logits, fusion, people)
            persons = fused_person_outcomes(crops, logits, people, outcomes, spec)
            probability = video_probability(persons)
            verdict, reasons = fused_verdict(probability, persons, info, spec, fusion)
        else:
            outcomes = frame_outcomes(frames, crops, logits, spec, people)
            persons = person_outcomes(outcomes, spec)
            probability = video_probability(persons)
            verdict = video_verdict(probability, spec)
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
        reasons=reasons,
        profile=profile,
    )
