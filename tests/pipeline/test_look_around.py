"""Between full looks at the whole frame, faces are looked for only around where they were
(BlazeFace's short-range model): the same faces, found for a third of the cost, and a full look
whenever a face is not where it was."""

import cv2
import numpy as np
import pytest

from detection.pipeline.blazeface import BlazeFaceDetector
from detection.pipeline.faces import FaceFinder
from detection.pipeline.types import FaceBox, SampledFrame
from tests import media


@pytest.fixture(scope="module")
def detector():
    return BlazeFaceDetector()


def _frame(centres, size=(1080, 1920), face_side=700) -> np.ndarray:
    """A grey HD frame with the test portrait (face_side px; its face is about a fifth of
    that, as in an interview shot) centred at each (x, y)."""
    frame = np.full(size + (3,), 70, np.uint8)
    portrait = cv2.resize(media.face_image(), (face_side, face_side))
    for cx, cy in centres:
        x0, y0 = cx - face_side // 2, cy - face_side // 2
        frame[y0 : y0 + face_side, x0 : x0 + face_side] = portrait
    return frame


def _iou(a: FaceBox, b: FaceBox) -> float:
    x0, y0 = max(a.x, b.x), max(a.y, b.y)
    x1, y1 = min(a.x + a.w, b.x + b.w), min(a.y + a.h, b.y + b.h)
    inter = max(0, x1 - x0) * max(0, y1 - y0)
    return inter / (a.area + b.area - inter)


def _frames(centres_per_frame) -> list[SampledFrame]:
    return [
        SampledFrame(index=i * 10, timestamp_s=i / 3, image=_frame(centres))
        for i, centres in enumerate(centres_per_frame)
    ]


def _centre(box: FaceBox) -> np.ndarray:
    return np.array([box.x + box.w / 2, box.y + box.h / 2])


def test_a_look_around_draws_the_box_the_full_range_model_draws_there(detector):
    before, after = _frame([(900, 540)]), _frame([(930, 550)])  # the head moved a little
    (last,) = detector.detect_with_keypoints(before)
    (around,) = detector.look_around(after, [last.box])
    # The full-range model on the same square, at the same resolution: the short-range box is
    # mapped onto its convention (size and centre).
    side = int(round(max(last.box.w, last.box.h) * 2.5))
    x0, y0 = [int(round(c - side / 2)) for c in _centre(last.box)]
    (full,) = detector.detect_regions([(after[y0 : y0 + side, x0 : x0 + side], x0, y0)])[0]
    assert _iou(around.box, full.box) > 0.85
    face_side = max(full.box.w, full.box.h)
    assert np.abs(around.keypoints[:2] - full.keypoints[:2]).max() < 0.06 * face_side
    assert around.keypoints[0][0] < around.keypoints[1][0]  # right eye on the image's left
    # ... and where a full look at the whole frame finds the face (its box, from a face a
    # tenth as large in its input, is rougher).
    (whole,) = detector.detect_with_keypoints(after)
    assert np.abs(_centre(around.box) - _centre(whole.box)).max() < 0.15 * face_side


def test_looks_around_two_faces_at_once_find_each_as_alone(detector):
    # One invoke for both squares: the model lays out its batched output grid by grid.
    frame = _frame([(400, 540), (1450, 540)])
    boxes = [d.box for d in detector.detect_with_keypoints(frame)]
    together = detector.look_around(frame, boxes)
    alone = [detector.look_around(frame, [box])[0] for box in boxes]
    assert len(together) == 2 and None not in together
    assert [d.box for d in together] == [d.box for d in alone]


def test_a_look_around_finds_nothing_where_the_face_left(detector):
    (last,) = detector.detect_with_keypoints(_frame([(1500, 540)]))
    assert detector.look_around(_frame([(400, 540)]), [last.box]) == [None]


def test_a_face_too_large_for_the_square_is_not_taken(detector):
    # The camera zoomed in: the face now runs past the square around its old, small box.
    frame = _frame([(960, 540)], face_side=1000)
    assert detector.look_around(frame, [FaceBox(920, 420, 60, 60)]) == [None]


def test_a_square_running_off_the_picture_still_finds_the_face(detector):
    frame = _frame([(350, 350)])  # in the corner: the square around it would leave the frame
    (last,) = detector.detect_with_keypoints(frame)
    (around,) = detector.look_around(frame, [last.box])
    assert np.abs(_centre(around.box) - _centre(last.box)).max() < 0.15 * last.box.w


def test_full_looks_come_every_n_frames_and_looks_around_between(detector):
    frames = _frames([[(800 + 20 * i, 540)] for i in range(8)])
    finder = FaceFinder(margin=0.3, full_look_every=4)
    tracked = finder.faces_of(frames, detector)
    assert finder.looks == {"full": 2, "around": 6}
    every = FaceFinder(margin=0.3, full_look_every=1)
    full = every.faces_of(frames, detector)
    assert every.looks == {"full": 8, "around": 0}
    assert [len(f) for f in tracked] == [len(f) for f in full] == [1] * 8
    for n, (a, b) in enumerate(zip(tracked, full)):
        if n % 4 == 0:  # the full looks: the same face, cut the same way
            assert a[0].box == b[0].box and np.array_equal(a[0].image, b[0].image)
    # The looks around follow the head, which moves 20 px a frame to the right.
    for n in (2, 3, 6, 7):
        step = _centre(tracked[n][0].box) - _centre(tracked[n - 1][0].box)
        tolerance = 0.05 * tracked[n][0].box.w
        assert abs(step[0] - 20) < tolerance and abs(step[1]) < tolerance


def test_a_face_not_found_again_gets_a_full_look_that_finds_it_elsewhere(detector):
    # The subject jumps across the frame (a cut): the look around finds nothing, the frame is
    # searched whole, and the face is found at its new place.
    frames = _frames([[(500, 540)], [(1400, 540)], [(1420, 540)]])
    finder = FaceFinder(margin=0.3, full_look_every=4)
    found = finder.faces_of(frames, detector)
    assert finder.looks == {"full": 2, "around": 1}
    (expected,) = detector.detect_with_keypoints(frames[1].image)
    assert found[1][0].box == expected.box


def test_a_new_person_is_found_by_the_next_full_look(detector):
    frames = _frames([[(400, 540)]] * 2 + [[(400, 540), (1450, 540)]] * 4)
    finder = FaceFinder(margin=0.3, full_look_every=4)
    found = finder.faces_of(frames, detector)
    # Frames 1-3 are looks around the one face known; frame 4 is a full look.
    assert [len(f) for f in found] == [1, 1, 1, 1, 2, 2]
    assert finder.looks == {"full": 2, "around": 4}


def test_a_crowd_gets_a_full_look_at_every_frame(detector):
    # With three faces or more, one full look costs less than a look around each.
    frames = [
        SampledFrame(
            index=i,
            timestamp_s=i / 3,
            image=_frame([(310, 540), (960, 540), (1610, 540)], face_side=600),
        )
        for i in range(3)
    ]
    finder = FaceFinder(margin=0.3, full_look_every=4)
    found = finder.faces_of(frames, detector)
    assert [len(f) for f in found] == [3, 3, 3]
    assert finder.looks == {"full": 3, "around": 0}


def test_a_helper_and_the_caller_share_one_schedule(detector):
    # The pipeline's helper thread takes frames one by one (`faces`), the caller the rest
    # (`faces_of`): the same finder, so the schedule runs on across the hand-over.
    frames = _frames([[(800 + 20 * i, 540)] for i in range(6)])
    finder = FaceFinder(margin=0.3, full_look_every=4)
    found = [finder.faces(frames[0], detector), finder.faces(frames[1], detector)]
    found += finder.faces_of(frames[2:], detector)
    assert finder.looks == {"full": 2, "around": 4}
    reference = FaceFinder(margin=0.3, full_look_every=4).faces_of(frames, detector)
    assert [[c.box for c in f] for f in found] == [[c.box for c in f] for f in reference]
