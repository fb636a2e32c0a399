"""Decode stage: read a video file once and keep N evenly spaced frames.

The file is read front to back with grab() (demux + decode, no colour conversion) and only the
sampled frames are retrieve()d. Seeking with CAP_PROP_POS_FRAMES is 3-10x slower on H.264
because every seek decodes from the previous keyframe.

The header is only a first guess: a variable-frame-rate video's frame count / fps is not its
duration, and a damaged file may promise frames it lacks. The pass therefore reads to the end,
takes every timestamp from the container (CAP_PROP_POS_MSEC), stops as soon as the video runs
past the maximum duration, and reports the duration and frame count it actually found.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from .errors import EmptyFile, NoFramesDecoded, NotAVideo, VideoTooLarge, VideoTooLong
from .types import AnalysisConfig, SampledFrame, VideoInfo


def _fourcc_to_str(value: float) -> str:
    code = int(value)
    text = "".join(chr((code >> (8 * i)) & 0xFF) for i in range(4))
    return text.strip("\x00 ").lower() if text.isprintable() else ""


def _open(path: str | os.PathLike) -> cv2.VideoCapture:
    p = Path(path)
    if not p.is_file():
        raise NotAVideo(f"File not found: {p.name}")
    if p.stat().st_size == 0:
        raise EmptyFile("The file is empty (0 bytes).")
    cap = cv2.VideoCapture(str(p))
    if not cap.isOpened():
        cap.release()
        raise NotAVideo(
            "The file could not be opened as a video: it has no video stream (audio only?), "
            "it is not a video, or it is truncated or corrupt."
        )
    # Phone videos store portrait as landscape pixels plus rotation metadata. OpenCV 4.x's
    # FFmpeg backend applies it by default; say so explicitly so faces are always upright
    # (detectors miss faces lying on their side) and width/height are the displayed ones.
    cap.set(cv2.CAP_PROP_ORIENTATION_AUTO, 1)
    return cap


def _info(cap: cv2.VideoCapture) -> VideoInfo:
    width = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH))
    height = int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
    fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
    if not np.isfinite(fps) or fps < 0 or fps > 1000:
        fps = 0.0
    frame_count = max(int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0), 0)
    duration = frame_count / fps if fps > 0 else 0.0
    return VideoInfo(
        width=width,
        height=height,
        fps=round(fps, 3),
        frame_count=frame_count,
        duration_s=round(duration, 3),
        codec=_fourcc_to_str(cap.get(cv2.CAP_PROP_FOURCC)),
    )


def probe_video(path: str | os.PathLike) -> VideoInfo:
    cap = _open(path)
    try:
        return _info(cap)
    finally:
        cap.release()


def sample_indices(frame_count: int, n: int) -> list[int]:
    """N distinct frame indices spread evenly, each at the centre of its slice of the video."""
    if frame_count <= 0 or n <= 0:
        return []
    n = min(n, frame_count)
    return sorted({int((i + 0.5) * frame_count / n) for i in range(n)})


# A frame rate no real upload exceeds: bounds a count pass when timestamps are missing too.
MAX_PLAUSIBLE_FPS = 240.0


def _too_long(seconds: float, config: AnalysisConfig) -> VideoTooLong:
    return VideoTooLong(
        f"The video runs past {seconds:.1f} s; the maximum is {config.max_duration_s:.0f} s."
    )


def _timestamp(cap: cv2.VideoCapture, index: int, fps: float) -> float:
    # The container's timestamp is right for variable frame rate; index/fps is the fallback
    # for streams without timestamps.
    msec = cap.get(cv2.CAP_PROP_POS_MSEC)
    if msec and msec > 0 and np.isfinite(msec):
        return msec / 1000.0
    return index / fps if fps > 0 else 0.0


def _check_duration(seconds: float, count: int, config: AnalysisConfig) -> None:
    if seconds > config.max_duration_s or count > config.max_duration_s * MAX_PLAUSIBLE_FPS:
        raise _too_long(max(seconds, count / MAX_PLAUSIBLE_FPS), config)


def _count_frames(path: str | os.PathLike, fps: float, config: AnalysisConfig) -> int:
    # Only for containers that do not state a frame count (some streamed WebM/MKV): one extra
    # grab-only pass, which is still cheaper than decoding and keeping every frame. It stops
    # as soon as the video proves too long.
    cap = cv2.VideoCapture(str(path))
    count = 0
    try:
        while cap.grab():
            count += 1
            _check_duration(_timestamp(cap, count - 1, fps), count, config)
    finally:
        cap.release()
    return count


def sample_frames(
    path: str | os.PathLike,
    config: AnalysisConfig = AnalysisConfig(),
    on_frame: Callable[[SampledFrame], None] | None = None,
) -> tuple[VideoInfo, list[SampledFrame]]:
    """The video's info and its sampled frames; `on_frame` sees each frame as it is decoded."""
    cap = _open(path)
    try:
        info = _info(cap)
        if info.width <= 0 or info.height <= 0:
            raise NotAVideo("The file has no video stream (audio only, or a 0x0 picture).")
        if info.width * info.height > config.max_pixels:
            raise VideoTooLarge(
                f"The resolution {info.width}x{info.height} is larger than this server accepts."
            )
        if info.duration_s > config.max_duration_s:
            raise VideoTooLong(
                f"The video lasts {info.duration_s:.0f} s; the maximum is "
                f"{config.max_duration_s:.0f} s."
            )
        frame_count = info.frame_count
        if frame_count <= 0:
            frame_count = _count_frames(path, info.fps, config)
        wanted = sample_indices(frame_count, config.frames_to_sample)
        frames, grabbed, last_timestamp, interval = grab_frames(
            cap, wanted, info.fps, config, on_frame
        )
    finally:
        cap.release()
    if not frames:
        raise NoFramesDecoded(
            "No frame could be decoded: the video stream is empty, truncated or corrupt."
        )
    # What the pass found beats what the header said (variable frame rate, truncation).
    duration = last_timestamp + interval if grabbed > 1 else info.duration_s
    if grabbed > 1 and duration > 0:
        info = dataclasses.replace(
            info,
            frame_count=grabbed,
            duration_s=round(duration, 3),
            fps=round(grabbed / duration, 3)
            if abs(duration - info.duration_s) > interval
            else info.fps,
        )
    return info, frames


def grab_frames(
    cap: cv2.VideoCapture,
    wanted: list[int],
    fps: float,
    config: AnalysisConfig,
    on_frame: Callable[[SampledFrame], None] | None = None,
) -> tuple[list[SampledFrame], int, float, float]:
    """Grab every frame, retrieve the wanted ones.

    Returns the sampled frames, how many frames were grabbed, the last timestamp and the
    last frame interval (for the duration).
    """
    frames: list[SampledFrame] = []
    targets = set(wanted)
    index, timestamp, previous = -1, 0.0, 0.0
    while cap.grab():  # to the end: a truncated file stops early, a longer one is counted
        index += 1
        previous, timestamp = timestamp, _timestamp(cap, index, fps)
        _check_duration(timestamp, index + 1, config)
        if index not in targets:
            continue
        # The frame is decoded but not yet converted and copied out: refuse it while it is
        # still cheap, whatever the header claimed (a stream can change size midway).
        width = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH))
        height = int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
        if width * height > config.max_pixels:
            raise VideoTooLarge(
                f"The resolution {width}x{height} is larger than this server accepts."
            )
        ok, image = cap.retrieve()
        if not ok or image is None or image.size == 0:
            continue
        frames.append(SampledFrame(index=index, timestamp_s=round(timestamp, 3), image=image))
        if on_frame is not None:
            on_frame(frames[-1])
    interval = max(timestamp - previous, 0.0) if index > 0 else 0.0
    return frames, index + 1, timestamp, interval
