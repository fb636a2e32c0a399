"""Each kind of awkward upload gets a clear outcome: a correct analysis or a clear error."""

import cv2
import numpy as np
import pytest

from detection.pipeline import decode
from detection.pipeline.decode import probe_video, sample_frames
from detection.pipeline.errors import NotAVideo, VideoTooLarge, VideoTooLong
from detection.pipeline.types import AnalysisConfig
from tests.pipeline import bad_media


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("bad")
    h264 = bad_media.h264_video(root / "h264.mp4", bad_media.moving_faces(40))
    portrait, upright = bad_media.portrait_phone_clip(root / "portrait.mp4")
    return {
        "h264": h264,
        "audio_only": bad_media.audio_only(root / "voice.mp4"),
        "zero_size": bad_media.zero_size(root / "zero.y4m"),
        "giant": bad_media.giant(root / "giant.mp4"),
        "portrait": portrait,
        "upright": upright,
        # 25 fps for 5 frames, then one frame a second: index/fps would put the last at 0.56 s.
        "vfr": bad_media.h264_video(
            root / "vfr.mp4",
            bad_media.moving_faces(9),
            pts_ms=[0, 40, 80, 120, 160, 1000, 2000, 3000, 4000],
        ),
        "corrupt_middle": bad_media.corrupt_copy(h264, root / "corrupt_middle.mp4"),
        "corrupt_head": bad_media.corrupt_copy(h264, root / "corrupt_head.mp4", start=0.0, end=0.5),
        "one_frame": bad_media.h264_video(root / "one.mp4", bad_media.moving_faces(1)),
    }


def test_an_audio_only_file_is_refused_as_having_no_video_stream(files):
    with pytest.raises(NotAVideo, match="no video stream"):
        sample_frames(files["audio_only"])


def test_a_0x0_picture_is_refused(files):
    with pytest.raises(NotAVideo, match="no video stream"):
        sample_frames(files["zero_size"])


def test_a_giant_resolution_is_refused_at_the_default_cap_before_decoding(files):
    assert 8320 * 8320 > AnalysisConfig().max_pixels
    with pytest.raises(VideoTooLarge, match="8320x8320"):
        sample_frames(files["giant"])


def test_a_frame_above_the_cap_is_refused_before_it_is_retrieved():
    # A stream can change size midway: the check runs on every frame, before retrieve() converts
    # and copies it out.
    class GrowingCapture:
        retrieved = 0

        def grab(self):
            return True

        def get(self, prop):
            return {
                cv2.CAP_PROP_FRAME_WIDTH: 10000,
                cv2.CAP_PROP_FRAME_HEIGHT: 10000,
                cv2.CAP_PROP_POS_MSEC: 0.0,
            }[prop]

        def retrieve(self):
            self.retrieved += 1
            return True, np.zeros((1, 1, 3), np.uint8)

    capture = GrowingCapture()
    with pytest.raises(VideoTooLarge, match="10000x10000"):
        decode.grab_frames(capture, [0], 25.0, AnalysisConfig())
    assert capture.retrieved == 0


def test_a_portrait_phone_video_is_decoded_upright(files):
    info, frames = sample_frames(files["portrait"], AnalysisConfig(frames_to_sample=4))
    assert (info.width, info.height) == (240, 320)  # the displayed size, not the stored one
    upright = files["upright"].astype(np.int16)
    for frame in frames:
        assert frame.image.shape == (320, 240, 3)
        assert np.abs(frame.image.astype(np.int16) - upright).mean() < 8
        # and the face is not upside down either
        assert np.abs(frame.image.astype(np.int16) - upright[::-1, ::-1]).mean() > 30


def test_a_portrait_phone_video_is_analysed_with_its_face_found(files, shipped_analyser):
    result = shipped_analyser.analyse(files["portrait"])
    assert result.frames_sampled == 12 and result.frames_with_face == 12


def test_variable_frame_rate_timestamps_come_from_the_container(files):
    info, frames = sample_frames(files["vfr"], AnalysisConfig(frames_to_sample=9))
    assert [f.timestamp_s for f in frames] == [0.0, 0.04, 0.08, 0.12, 0.16, 1.0, 2.0, 3.0, 4.0]
    assert info.frame_count == 9
    assert info.duration_s == pytest.approx(5.0, abs=0.01)  # last frame + its interval


def test_a_video_over_the_maximum_is_refused_from_its_header(files):
    with pytest.raises(VideoTooLong, match="maximum is 2 s"):
        sample_frames(files["h264"], AnalysisConfig(max_duration_s=2.0))


def test_a_video_whose_header_hides_its_length_is_stopped_at_the_maximum(files, tmp_path):
    # A raw H.264 stream states neither duration nor frame count: the count pass must stop
    # once the frames run past the maximum, not read an endless stream.
    raw = bad_media.raw_h264(files["h264"], tmp_path / "stream.h264")
    assert probe_video(raw).duration_s == 0
    with pytest.raises(VideoTooLong, match="maximum is 1 s"):
        sample_frames(raw, AnalysisConfig(max_duration_s=1.0))
    info, frames = sample_frames(raw, AnalysisConfig(frames_to_sample=8))
    assert info.frame_count == 40 and len(frames) == 8


def test_a_video_corrupt_in_the_middle_is_analysed_up_to_the_damage(files):
    info, frames = sample_frames(files["corrupt_middle"], AnalysisConfig(frames_to_sample=40))
    assert 0 < len(frames) < 40
    assert info.frame_count < 40  # what could be decoded, not what the header promised
    for frame in frames:  # real pictures, not garbage
        assert cv2.cvtColor(frame.image, cv2.COLOR_BGR2GRAY).std() > 10


def test_a_video_with_a_corrupt_header_is_refused(files):
    with pytest.raises(NotAVideo, match="corrupt"):
        sample_frames(files["corrupt_head"])


def test_a_one_frame_h264_video_is_analysed(files, shipped_analyser):
    result = shipped_analyser.analyse(files["one_frame"])
    assert result.frames_sampled == 1 and result.frames_with_face == 1
    assert result.info.frame_count == 1


def test_a_clip_with_a_constant_rate_keeps_its_header_figures(clips):
    info, _ = sample_frames(clips["face"], AnalysisConfig(frames_to_sample=4))
    assert (info.fps, info.frame_count, info.duration_s) == (16.0, 40, 2.5)
    assert info == probe_video(clips["face"])
