"""The overlapped runner: decode, faces and classify at once, for the same result.

FFmpeg leaves part of a 2-core machine idle while it decodes H.264. Here a helper thread at the
lowest CPU priority finds and scores each sampled frame's faces as the frame is decoded; what it
has not reached when decoding ends runs at full speed on the calling thread. The result equals
the stages run one after another (`AnalysisConfig.overlap_stages=False`, analyse.py):
bench/pipeline_speed.py measures both.

Thread scheduling lives here, not in the decoder: decode.sample_frames only calls `on_frame`.
"""

from __future__ import annotations

import os
import queue
import threading
import time
from collections.abc import Callable

import numpy as np

from .decode import sample_frames
from .faces import FaceFinder
from .timing import timed
from .types import AnalysisConfig, FaceCrop, SampledFrame, VideoInfo


def overlapped_stages(
    path: str | os.PathLike, analyser, timings: dict[str, float]
) -> tuple[VideoInfo, list[SampledFrame], list[FaceCrop], np.ndarray]:
    """decode + faces + classify of one video, overlapped: its info, frames, crops and logits.

    `timings` receives "decode" (the decoding pass), "faces" and "model" (the seconds of work in
    each, mostly done during the decode) and "after_decode" (the wait once the last frame was
    decoded).
    """
    scorer = FaceScorer(analyser.spec.face_margin, analyser.config.full_look_every)
    light_detector, light_classifier = analyser.helper_stages()
    info, frames = sample_frames_with_helper(
        path,
        analyser.config,
        helper=lambda frame: scorer.add(frame, light_detector, light_classifier),
        rest=lambda frames: scorer.add_all(frames, analyser.detector),
        timings=timings,
    )
    with timed(timings, "after_decode"):
        crops, logits = scorer.finish(analyser.classifier)
    timings.update(scorer.busy)
    return info, frames, crops, logits


class FaceScorer:
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
        with timed(self.busy, "faces", clock=time.thread_time):
            found = self.finder.faces(frame, detector)
        self.crops.extend(found)
        self.pending.extend(c.image for c in found)
        if len(self.pending) >= self.BATCH:
            self._score(classifier, clock=time.thread_time)

    def add_all(self, frames: list[SampledFrame], detector) -> None:
        """The frames the helper did not reach: faces in batches, scored by `finish`."""
        with timed(self.busy, "faces"):
            for found in self.finder.faces_of(frames, detector):
                self.crops.extend(found)
                self.pending.extend(c.image for c in found)

    def finish(self, classifier) -> tuple[list[FaceCrop], np.ndarray]:
        if self.pending:
            self._score(classifier)
        return self.crops, (
            np.concatenate(self.logits) if self.logits else np.zeros((0,), dtype=np.float64)
        )

    def _score(self, classifier, clock=time.perf_counter) -> None:
        with timed(self.busy, "model", clock=clock):
            self.logits.append(classifier.logits(self.pending))
            self.pending = []


_END = object()


def _lowest_priority() -> None:
    """Make the calling thread run only on CPU time nothing else wants (Linux SCHED_IDLE; the
    highest nice value elsewhere). Best effort: without either it runs as it is."""
    try:
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
        return
    except (AttributeError, OSError):
        pass
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
    except (AttributeError, OSError):
        pass


def sample_frames_with_helper(
    path: str | os.PathLike,
    config: AnalysisConfig,
    helper: Callable[[SampledFrame], None],
    rest: Callable[[list[SampledFrame]], None],
    timings: dict[str, float] | None = None,
) -> tuple[VideoInfo, list[SampledFrame]]:
    """`sample_frames`, with the next stage's per-frame work started while the video decodes.

    FFmpeg leaves part of a 2-core machine idle while it decodes H.264 (about a quarter of a
    core on a 1080p clip). A helper thread at the lowest CPU priority runs `helper(frame)` on
    each sampled frame as it is decoded, in order, on that idle time only (it still slows the
    decoder by a few per cent: Python's lock, memory traffic). Once the last frame is decoded
    the helper stops after the frame it is on, and this thread runs `rest(frames)` once, on the
    frames it had not reached, in order, at full speed. Every frame goes through exactly one of
    the two.

    Errors: a decode error is raised once the helper has stopped; a helper error is raised
    after decoding ends, and no frame goes through `rest` after it.

    `timings`, if given, receives "decode" (seconds of the decoding pass) and "after_decode"
    (seconds from the end of decoding until every frame has been through one of the two).
    """
    handoff: queue.SimpleQueue = queue.SimpleQueue()
    stop = threading.Event()
    turn = threading.Lock()  # held by the helper while it works on a frame
    outcome: dict = {}

    def run() -> None:
        _lowest_priority()
        while True:
            frame = handoff.get()
            if frame is _END:
                return
            with turn:
                if stop.is_set():
                    outcome["left"] = frame
                    return
                try:
                    helper(frame)
                except BaseException as exc:  # re-raised on the calling thread
                    outcome["error"] = exc
                    return

    worker = threading.Thread(target=run, name="frame-helper", daemon=True)
    worker.start()
    started = time.perf_counter()
    try:
        info, frames = sample_frames(path, config, on_frame=handoff.put)
    finally:
        decoded = time.perf_counter()
        # Stop first, then wait for the frame the helper is on. Setting the flag only once
        # holding the lock let the helper keep it: a thread that releases a Python lock and
        # takes it straight back usually wins it again, so the helper went on through the
        # queued frames, alone on one core, while this thread waited for it (measured: a
        # quarter of a second on a 10 s 1080p clip in some runs).
        stop.set()
        with turn:
            pass
        handoff.put(_END)
        worker.join()
    if "error" in outcome:
        raise outcome["error"]
    left = [outcome["left"]] if "left" in outcome else []
    while True:  # the helper has ended: what is still queued is this thread's
        try:
            frame = handoff.get_nowait()
        except queue.Empty:
            break
        if frame is not _END:
            left.append(frame)
    rest(left)
    if timings is not None:
        timings["decode"] = decoded - started
        timings["after_decode"] = time.perf_counter() - decoded
    return info, frames
