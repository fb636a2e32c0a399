import cv2
import pytest

from detection.pipeline.decode import probe_video, sample_frames, sample_indices
from detection.pipeline.errors import (
    EmptyFile,
    NotAVideo,
    PipelineError,
    VideoTooLarge,
    VideoTooLong,
)
from detection.pipeline.types import AnalysisConfig
from tests import media


def test_it_spreads_indices_evenly_over_the_video():
    assert sample_indices(100, 4) == [12, 37, 62, 87]
    assert sample_indices(3, 32) == [0, 1, 2]  # never more samples than frames
    assert sample_indices(0, 32) == []


def test_it_samples_the_requested_number_of_frames(clips):
    info, frames = sample_frames(clips["face"], AnalysisConfig(frames_to_sample=8))
    assert (info.width, info.height, info.frame_count) == (320, 320, 40)
    assert info.duration_s == pytest.approx(2.5, abs=0.01)
    assert [f.index for f in frames] == sample_indices(40, 8)
    assert all(f.image.shape == (320, 320, 3) for f in frames)
    timestamps = [f.timestamp_s for f in frames]
    assert timestamps == sorted(timestamps) and timestamps[-1] <= info.duration_s


def test_it_probes_metadata(clips):
    info = probe_video(clips["face"])
    assert info.fps == pytest.approx(16.0)
    assert info.codec in {"mp4v", "fmp4"}  # FFmpeg names its MPEG-4 Part 2 encoder fmp4


def test_it_refuses_an_empty_file(clips):
    with pytest.raises(EmptyFile, match="empty"):
        sample_frames(clips["empty"])


def test_it_refuses_a_file_that_is_not_a_video(clips):
    with pytest.raises(NotAVideo, match="not a video"):
        sample_frames(clips["not_video"])


def test_it_refuses_a_truncated_mp4(clips):
    with pytest.raises(PipelineError, match="truncated"):
        sample_frames(clips["truncated"])


def test_it_keeps_the_frames_before_the_cut_of_a_truncated_stream(tmp_path):
    # An AVI keeps its header up front: cut short, it still opens, with fewer frames than
    # its header promises. We analyse what can be decoded instead of failing.
    source = media.write_video(tmp_path / "full.avi", [media.face_image()] * 40, fourcc="MJPG")
    cut = media.truncated_copy(source, tmp_path / "cut.avi", keep=0.5)
    info, frames = sample_frames(cut, AnalysisConfig(frames_to_sample=40))
    assert 0 < len(frames) < 40


def test_it_refuses_a_video_longer_than_the_maximum(clips):
    with pytest.raises(VideoTooLong, match="maximum is 1 s"):
        sample_frames(clips["face"], AnalysisConfig(max_duration_s=1.0))


def test_it_refuses_a_giant_resolution(clips):
    with pytest.raises(VideoTooLarge, match="320x320"):
        sample_frames(clips["face"], AnalysisConfig(max_pixels=300 * 300))


def test_it_refuses_a_missing_file(tmp_path):
    with pytest.raises(NotAVideo, match="not found"):
        sample_frames(tmp_path / "nope.mp4")


def test_it_reads_a_single_frame_video(tmp_path):
    path = media.write_video(tmp_path / "one.mp4", [media.face_image()])
    info, frames = sample_frames(path)
    assert len(frames) == 1 and frames[0].index == 0
    assert cv2.cvtColor(frames[0].image, cv2.COLOR_BGR2GRAY).std() > 10  # a real picture
