"""Decoding with the next stage's work started on a helper thread: every sampled frame goes
through exactly one of the helper and the rest, in order, and errors surface on the caller."""

import os
import threading
import time

import pytest

from detection.pipeline.decode import sample_frames
from detection.pipeline.errors import EmptyFile
from detection.pipeline.overlap import sample_frames_with_helper
from detection.pipeline.types import AnalysisConfig

CONFIG = AnalysisConfig(frames_to_sample=12)


def _run(clip, helper_delay=0.0, timings=None):
    calls = []  # (who, frame index, thread name), in the order the work happened
    lock = threading.Lock()

    def helper(frame):
        time.sleep(helper_delay)
        with lock:
            calls.append(("helper", frame.index, threading.current_thread().name))

    def rest(frames):
        with lock:
            calls.extend(("rest", f.index, threading.current_thread().name) for f in frames)

    info, frames = sample_frames_with_helper(clip, CONFIG, helper, rest, timings=timings)
    return info, frames, calls


def test_every_sampled_frame_goes_through_exactly_one_of_the_two_in_order(clips):
    info, frames, calls = _run(clips["face"])
    expected = [f.index for f in sample_frames(clips["face"], CONFIG)[1]]
    assert [f.index for f in frames] == expected
    assert [index for _, index, _ in calls] == expected
    assert {name for who, _, name in calls if who == "helper"} <= {"frame-helper"}
    assert {name for who, _, name in calls if who == "rest"} <= {threading.current_thread().name}
    assert info.frame_count == 40


def test_frames_the_helper_has_not_reached_when_decoding_ends_go_to_the_rest(clips):
    timings = {}
    _, frames, calls = _run(clips["face"], helper_delay=0.05, timings=timings)
    who = [w for w, _, _ in calls]
    assert "rest" in who  # a slow helper cannot keep up with a 40-frame decode
    assert who == sorted(who, key=lambda w: w == "rest")  # helper frames first, then the rest
    assert [index for _, index, _ in calls] == [f.index for f in frames]
    assert timings["decode"] > 0 and timings["after_decode"] >= 0


@pytest.mark.skipif(not hasattr(os, "SCHED_IDLE"), reason="SCHED_IDLE is Linux-only")
def test_the_helper_runs_at_idle_priority(clips):
    policies = set()
    sample_frames_with_helper(
        clips["face"],
        CONFIG,
        lambda frame: policies.add(os.sched_getscheduler(0)),
        lambda frames: None,
    )
    assert policies <= {os.SCHED_IDLE}


def test_a_decode_error_is_raised_and_the_helper_thread_ends(clips):
    before = threading.active_count()
    with pytest.raises(EmptyFile):
        sample_frames_with_helper(clips["empty"], CONFIG, lambda f: None, lambda fs: None)
    assert threading.active_count() == before


def test_a_helper_error_is_raised_on_the_calling_thread_and_nothing_runs_after_it(clips):
    rest = []

    def helper(frame):
        raise RuntimeError("detector broke")

    with pytest.raises(RuntimeError, match="detector broke"):
        sample_frames_with_helper(clips["face"], CONFIG, helper, rest.extend)
    assert rest == []


def test_once_decoding_ends_the_helper_starts_no_new_frame(clips, monkeypatch):
    # The caller stops the helper as soon as the last frame is decoded and only then waits for
    # the frame it is on: had it waited for the helper's lock first, the helper could take the
    # lock straight back, frame after frame, and work through the queue alone on one core.
    import detection.pipeline.decode as decode

    decoded = threading.Event()
    real = decode.sample_frames

    def sample_then_signal(*args, **kwargs):
        result = real(*args, **kwargs)
        decoded.set()
        return result

    monkeypatch.setattr(decode, "sample_frames", sample_then_signal)
    started_after = []

    def helper(frame):
        started_after.append(decoded.is_set())
        time.sleep(0.02)

    rest = []
    _, frames = sample_frames_with_helper(clips["face"], CONFIG, helper, rest.extend)
    # At most one frame can start between the end of decoding and the stop.
    assert sum(started_after) <= 1
    assert len(started_after) + len(rest) == len(frames)
