"""Decode stage: read a video file once and keep N evenly spaced frames.

The file is read front to back with grab() (demux + decode, no colour conversion) and only the
sampled frames are retrieve()d. Seeking with CAP_PROP_POS_FRAMES is 3-10x slower on H.264
because every seek decodes from the previous keyframe.
"""
from __future__ import annotations

import os
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
            "The file could not be opened as a video: it is not a video, or it is truncated "
            "or corrupt."
        )
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


def _count_frames(path: str | os.PathLike) -> int:
    # Only for containers that do not state a frame count (some streamed WebM/MKV): one extra
    # grab-only pass, which is still cheaper than decoding and keeping every frame.
    cap = cv2.VideoCapture(str(path))
    count = 0
    try:
        while cap.grab():
            count += 1
    finally:
        cap.release()
    return count


def sample_frames(
    path: str | os.PathLike, config: AnalysisConfig = AnalysisConfig()
) -> tuple[VideoInfo, list[SampledFrame]]:
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
            frame_count = _count_frames(path)
            if info.fps > 0 and frame_count / info.fps > config.max_duration_s:
                raise VideoTooLong(
                    f"The video lasts {frame_count / info.fps:.0f} s; the maximum is "
                    f"{config.max_duration_s:.0f} s."
                )
        wanted = sample_indices(frame_count, config.frames_to_sample)
        frames = _grab_frames(cap, wanted, info.fps)
    finally:
        cap.release()
    if not frames:
        raise NoFramesDecoded(
            "No frame could be decoded: the video stream is empty, truncated or corrupt."
        )
    return info, frames


def _grab_frames(cap: cv2.VideoCapture, wanted: list[int], fps: float) -> list[SampledFrame]:
    frames: list[SampledFrame] = []
    if not wanted:
        return frames
    targets = set(wanted)
    last = wanted[-1]
    for index in range(last + 1):
        if not cap.grab():
            break  # truncated or shorter than the header said: keep what we have
        if index not in targets:
            continue
        ok, image = cap.retrieve()
        if not ok or image is None or image.size == 0:
            continue
        # The container's timestamp is right for variable frame rate; index/fps is the fallback.
        msec = cap.get(cv2.CAP_PROP_POS_MSEC)
        timestamp = msec / 1000.0 if msec and msec > 0 else (index / fps if fps > 0 else 0.0)
        frames.append(SampledFrame(index=index, timestamp_s=round(timestamp, 3), image=image))
    return frames
