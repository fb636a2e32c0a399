"""The pipeline's entry point: one function that reads top to bottom."""
from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np

from .aggregate import frame_outcomes, person_outcomes, video_probability, video_verdict
from .classify import KerasFaceClassifier, is_quantized, make_classifier
from .decode import sample_frames, sample_frames_with_helper
from .faces import FaceDetector, FaceFinder, find_faces, make_detector
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
        self._helper_stages = None

    def helper_stages(self):
        """(detector, classifier) giving the same results on one CPU thread, for the
        pipeline's idle-time helper; made once, on first use."""
        if self._helper_stages is None:
            self._helper_stages = (_single_threaded(self.detector),
                                   _single_threaded(self.classifier))
        return self._helper_stages

    @classmethod
    def from_spec_file(cls, spec_path: str | Path, *, weights_path: str | Path | None = None,
                       config: AnalysisConfig = AnalysisConfig()) -> "Analyser":
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


def analyse_video(path: str | os.PathLike, analyser: Analyser) -> VideoResult:
    """decode -> faces -> classify -> aggregate. Raises a PipelineError for unanalysable input.

    Faces are found and scored while the video is still decoding, on the CPU time FFmpeg
    leaves idle (decode.sample_frames_with_helper); what is left when the last frame is decoded
    runs at full speed. bench/pipeline_speed.py measures this against the stages one after
    another (`AnalysisConfig.overlap_stages=False`), which give the same result.
    """
    if not analyser.config.overlap_stages:
        return analyse_video_sequential(path, analyser)
    scorer = _FaceScorer(analyser.spec.face_margin, analyser.config.full_look_every)
    light_detector, light_classifier = analyser.helper_stages()
    timings: dict[str, float] = {}
    info, frames = sample_frames_with_helper(
        path, analyser.config,
        helper=lambda frame: scorer.add(frame, light_detector, light_classifier),
        rest=lambda frames: scorer.add_all(frames, analyser.detector),
        timings=timings)
    started = time.perf_counter()
    crops, logits = scorer.finish(analyser.classifier)
    timings["after_decode"] += time.perf_counter() - started
    # "decode": the decoding pass; "faces" and "model": the seconds of work in each, mostly
    # done during the decode; "after_decode": the wait once the last frame was decoded.
    return _aggregate(info, frames, crops, logits, analyser, {**timings, **scorer.busy})


class _FaceScorer:
    """One video's faces and logits, built a frame at a time, in order.

    Crops are scored in small batches as their frames arrive, so little is left to score once
    the last frame is decoded; a face's logit does not depend on the batch it is in."""

    BATCH = 4

    def __init__(self, margin: float, full_look_every: int = 1):
        self.finder = FaceFinder(margin, full_look_every)
        self.crops: list[FaceCrop] = []
        self.logits: list[np.ndarray] = []
        self.pending: list[np.ndarray] = []
        self.busy = {"faces": 0.0, "model": 0.0}

    def add(self, frame: SampledFrame, detector, classifier) -> None:
        """One frame on the helper: its faces, scored once a few are waiting. Timed in this
        thread's CPU seconds (its interpreters run on it alone): at idle priority its wall
        time would count the time it waited for a core."""
        started = time.thread_time()
        found = self.finder.faces(frame, detector)
        self.busy["faces"] += time.thread_time() - started
        self.crops.extend(found)
        self.pending.extend(c.image for c in found)
        if len(self.pending) >= self.BATCH:
            self._score(classifier, clock=time.thread_time)

    def add_all(self, frames: list[SampledFrame], detector) -> None:
        """The frames the helper did not reach: faces in batches, scored by `finish`."""
        started = time.perf_counter()
        for found in self.finder.faces_of(frames, detector):
            self.crops.extend(found)
            self.pending.extend(c.image for c in found)
        self.busy["faces"] += time.perf_counter() - started

    def finish(self, classifier) -> tuple[list[FaceCrop], np.ndarray]:
        if self.pending:
            self._score(classifier)
        return self.crops, (np.concatenate(self.logits) if self.logits
                            else np.zeros((0,), dtype=np.float64))

    def _score(self, classifier, clock=time.perf_counter) -> None:
        started = clock()
        self.logits.append(classifier.logits(self.pending))
        self.pending = []
        self.busy["model"] += clock() - started


def analyse_video_sequential(path: str | os.PathLike, analyser: Analyser) -> VideoResult:
    """The same analysis with every stage after the previous one (no second thread)."""
    timings: dict[str, float] = {}
    started = time.perf_counter()
    info, frames = sample_frames(path, analyser.config)
    timings["decode"] = time.perf_counter() - started

    started = time.perf_counter()
    crops = find_faces(frames, analyser.detector, analyser.spec.face_margin,
                       analyser.config.full_look_every)
    timings["faces"] = time.perf_counter() - started
    return score_faces(info, frames, crops, analyser, timings)


def score_faces(info: VideoInfo, frames: list[SampledFrame], crops: list[FaceCrop],
                analyser: Analyser, timings: dict[str, float]) -> VideoResult:
    """The stages after the faces are found: classify, then aggregate (people are counted in
    "faces"); `timings` holds the earlier stages' seconds."""
    timings = dict(timings)
    started = time.perf_counter()
    logits = analyser.classifier.logits([c.image for c in crops])
    timings["model"] = time.perf_counter() - started
    return _aggregate(info, frames, crops, logits, analyser, timings)


def _aggregate(info: VideoInfo, frames: list[SampledFrame], crops: list[FaceCrop],
               logits: np.ndarray, analyser: Analyser, timings: dict[str, float]) -> VideoResult:
    """People, per-face scores, per-person and per-video probability and verdict."""
    timings = dict(timings)
    started = time.perf_counter()
    people = people_for_crops([f.index for f in frames], [c.frame_index for c in crops],
                              [c.box for c in crops])
    timings["faces"] = timings.get("faces", 0.0) + time.perf_counter() - started

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
