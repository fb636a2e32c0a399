"""Decoding with the next stage running alongside gives the same frames and faces."""
import threading

import pytest

from detection.pipeline.decode import sample_frames, sample_frames_overlapped
from detection.pipeline.errors import EmptyFile
from detection.pipeline.faces import find_faces, make_detector
from detection.pipeline.types import AnalysisConfig

CONFIG = AnalysisConfig(frames_to_sample=12)


def test_the_consumer_sees_every_sampled_frame_in_order_on_another_thread(clips):
    seen, threads = [], set()

    def consume(stream):
        for frame in stream:
            seen.append(frame.index)
            threads.add(threading.current_thread().name)
        return "done"

    info, frames, result, busy = sample_frames_overlapped(clips["face"], CONFIG, consume)
    assert result == "done" and busy >= 0
    assert seen == [f.index for f in frames] == [f.index for f in sample_frames(clips["face"],
                                                                                CONFIG)[1]]
    assert threads == {"frame-consumer"}
    assert info.frame_count == 40


def test_faces_found_while_decoding_equal_those_found_after(clips):
    detector = make_detector("blazeface", CONFIG)
    _, frames = sample_frames(clips["face"], CONFIG)
    after = find_faces(frames, detector, 0.3)
    _, _, during, _ = sample_frames_overlapped(
        clips["face"], CONFIG, lambda stream: find_faces(stream, detector, 0.3))
    assert len(during) == len(after) == 12
    assert [(c.frame_index, c.box) for c in during] == [(c.frame_index, c.box) for c in after]


def test_a_decode_error_is_raised_and_the_consumer_thread_ends(clips):
    before = threading.active_count()
    with pytest.raises(EmptyFile):
        sample_frames_overlapped(clips["empty"], CONFIG, lambda stream: list(stream))
    assert threading.active_count() == before


def test_a_consumer_error_is_raised_on_the_calling_thread(clips):
    def consume(stream):
        next(iter(stream))
        raise RuntimeError("detector broke")

    with pytest.raises(RuntimeError, match="detector broke"):
        sample_frames_overlapped(clips["face"], CONFIG, consume)
