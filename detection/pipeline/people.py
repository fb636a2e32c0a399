"""People stage: track faces across the sampled frames into people.

Sampled frames are ~0.3 s apart, so a face moves a little between them; boxes are linked to the
person whose last box overlaps most (IoU), or whose centre is close relative to the face size.
Greedy matching, best pairs first, is enough for the handful of faces a video shows at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .types import FaceBox

# Two boxes are the same person if they overlap this much ...
MIN_IOU = 0.2
# ... or if their centres are closer than this many face widths (fast motion, zoom).
MAX_CENTRE_SHIFT = 0.75
# A person not seen for this many sampled frames is closed; a new face later is a new person.
MAX_GAP_FRAMES = 4


def iou(a: FaceBox, b: FaceBox) -> float:
    x0, y0 = max(a.x, b.x), max(a.y, b.y)
    x1, y1 = min(a.x + a.w, b.x + b.w), min(a.y + a.h, b.y + b.h)
    inter = max(0, x1 - x0) * max(0, y1 - y0)
    union = a.area + b.area - inter
    return inter / union if union else 0.0


def _affinity(a: FaceBox, b: FaceBox) -> float:
    """0 when the boxes cannot be the same face; higher is a better match."""
    overlap = iou(a, b)
    if overlap >= MIN_IOU:
        return 1.0 + overlap
    ca = (a.x + a.w / 2, a.y + a.h / 2)
    cb = (b.x + b.w / 2, b.y + b.h / 2)
    size = max(a.w, a.h, b.w, b.h)
    shift = ((ca[0] - cb[0]) ** 2 + (ca[1] - cb[1]) ** 2) ** 0.5 / size
    ratio = min(a.area, b.area) / max(a.area, b.area)
    if shift <= MAX_CENTRE_SHIFT and ratio >= 0.4:
        return 1.0 - shift / MAX_CENTRE_SHIFT * 0.99
    return 0.0


@dataclass
class _Track:
    index: int
    last_box: FaceBox
    last_position: int  # position of the frame in the sampled sequence
    members: list[int] = field(default_factory=list)


def assign_people(frames: list[list[FaceBox]]) -> list[list[int]]:
    """For each sampled frame's boxes, the person index of each box (0, 1, ... by first sight)."""
    tracks: list[_Track] = []
    assignment: list[list[int]] = []
    for position, boxes in enumerate(frames):
        open_tracks = [t for t in tracks if position - t.last_position <= MAX_GAP_FRAMES]
        pairs = sorted(
            (
                (_affinity(t.last_box, box), ti, bi)
                for ti, t in enumerate(open_tracks)
                for bi, box in enumerate(boxes)
            ),
            reverse=True,
        )
        chosen: dict[int, _Track] = {}
        used_tracks: set[int] = set()
        for score, ti, bi in pairs:
            if score <= 0 or ti in used_tracks or bi in chosen:
                continue
            chosen[bi] = open_tracks[ti]
            used_tracks.add(ti)
        row = []
        for bi, box in enumerate(boxes):
            track = chosen.get(bi)
            if track is None:
                track = _Track(index=len(tracks), last_box=box, last_position=position)
                tracks.append(track)
            track.last_box, track.last_position = box, position
            row.append(track.index)
        assignment.append(row)
    return assignment


def people_for_crops(
    frame_indices: list[int], crop_frames: list[int], crop_boxes: list[FaceBox]
) -> list[int]:
    """Person index per crop, for crops listed frame by frame as `find_faces` returns them."""
    per_frame: dict[int, list[FaceBox]] = {i: [] for i in frame_indices}
    for frame_index, box in zip(crop_frames, crop_boxes, strict=True):
        per_frame[frame_index].append(box)
    assignment = assign_people([per_frame[i] for i in frame_indices])
    by_frame = dict(zip(frame_indices, assignment, strict=True))
    seen: dict[int, int] = {}
    people = []
    for frame_index in crop_frames:
        n = seen.get(frame_index, 0)
        people.append(by_frame[frame_index][n])
        seen[frame_index] = n + 1
    return people
