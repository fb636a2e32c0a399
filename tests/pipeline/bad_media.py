"""Awkward videos for the bad-input tests, written at run time with PyAV (FFmpeg's libraries).

OpenCV's writer cannot make audio-only files, rotation metadata or irregular timestamps;
PyAV can. Rotation is written into the MP4 track header's display matrix by hand, because
FFmpeg's muxer no longer takes a `rotate` tag.
"""

from __future__ import annotations

import fractions
import struct
from pathlib import Path

import av
import cv2
import numpy as np

from tests import media


def h264_video(
    path: Path, frames: list[np.ndarray], pts_ms: list[int] | None = None, fps: int = 16
) -> Path:
    """H.264 in MP4; `pts_ms` gives each frame's timestamp in milliseconds (variable rate)."""
    height, width = frames[0].shape[:2]
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"preset": "ultrafast"}
        if pts_ms is not None:
            stream.time_base = stream.codec_context.time_base = fractions.Fraction(1, 1000)
        for i, image in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(image, format="bgr24")
            if pts_ms is not None:
                frame.pts, frame.time_base = pts_ms[i], fractions.Fraction(1, 1000)
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def moving_faces(n: int, image: np.ndarray | None = None) -> list[np.ndarray]:
    base = media.face_image() if image is None else image
    return [np.roll(base, 3 * i, axis=1) for i in range(n)]


def audio_only(path: Path, seconds: float = 1.0) -> Path:
    """An MP4 holding one AAC audio track (a voice memo renamed .mp4)."""
    rate = 44100
    with av.open(str(path), "w", format="mp4") as out:
        stream = out.add_stream("aac", rate=rate)
        t = np.arange(int(rate * seconds)) / rate
        tone = (0.2 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
        for i, start in enumerate(range(0, len(tone) - 1024, 1024)):
            frame = av.AudioFrame.from_ndarray(
                tone[None, start : start + 1024], format="fltp", layout="mono"
            )
            frame.sample_rate, frame.pts = rate, i * 1024
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def zero_size(path: Path) -> Path:
    """A raw YUV4MPEG stream whose header declares a 0x0 picture."""
    path.write_bytes(b"YUV4MPEG2 W0 H0 F25:1 Ip A1:1 C420jpeg\nFRAME\n")
    return path


def giant(path: Path, width: int = 8320, height: int = 8320) -> Path:
    """One blank frame at a resolution above the default 8192x8192 pixel cap (~0.2 MB file)."""
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=1)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"preset": "ultrafast"}
        for packet in stream.encode(av.VideoFrame(width, height, "yuv420p")):
            out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def with_rotation(path: Path, degrees: int) -> Path:
    """Rewrite the video track header's display matrix: play back rotated by `degrees`."""
    data = bytearray(path.read_bytes())
    at = data.find(b"tkhd")
    assert at > 0, "no track header"
    version = data[at + 4]
    # version/flags, times and track id, reserved, duration, reserved, layer..volume, reserved
    matrix = at + 4 + 4 + (32 if version == 1 else 20) + 8 + 8
    one, w = 0x10000, 0x40000000
    values = {
        90: (0, one, 0, -one, 0, 0, 0, 0, w),
        180: (-one, 0, 0, 0, -one, 0, 0, 0, w),
        270: (0, -one, 0, one, 0, 0, 0, 0, w),
    }[degrees]
    struct.pack_into(">9i", data, matrix, *values)
    path.write_bytes(bytes(data))
    return path


def portrait_phone_clip(path: Path, n_frames: int = 12) -> tuple[Path, np.ndarray]:
    """Upright portrait footage stored sideways plus 'rotate 90' metadata, as phones do.

    Returns the file and the upright picture a correct decoder must show.
    """
    upright = cv2.resize(media.face_image(), (240, 320))  # portrait: taller than wide
    stored = cv2.rotate(upright, cv2.ROTATE_90_COUNTERCLOCKWISE)
    h264_video(path, [stored] * n_frames)
    return with_rotation(path, 90), upright


def corrupt_copy(
    source: Path, path: Path, start: float = 0.3, end: float = 0.9, seed: int = 0
) -> Path:
    """Same size, but random bytes over the middle of the file (a damaged download)."""
    data = bytearray(source.read_bytes())
    a, b = int(len(data) * start), int(len(data) * end)
    data[a:b] = np.random.default_rng(seed).integers(0, 256, b - a, dtype=np.uint8).tobytes()
    path.write_bytes(bytes(data))
    return path


def raw_h264(source: Path, path: Path) -> Path:
    """The same H.264 frames as an elementary stream: no container, so no duration or count."""
    with av.open(str(source)) as src, av.open(str(path), "w", format="h264") as out:
        stream = out.add_stream_from_template(src.streams.video[0])
        for packet in src.demux(src.streams.video[0]):
            if packet.dts is None:  # the flush packet
                continue
            packet.stream = stream
            out.mux(packet)
    return path
