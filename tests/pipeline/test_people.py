from detection.pipeline.people import assign_people, iou, people_for_crops
from detection.pipeline.types import FaceBox


def test_iou_of_identical_disjoint_and_half_overlapping_boxes():
    a = FaceBox(0, 0, 10, 10)
    assert iou(a, a) == 1.0
    assert iou(a, FaceBox(20, 20, 10, 10)) == 0.0
    assert iou(a, FaceBox(5, 0, 10, 10)) == 50 / 150


def test_two_people_keep_their_identity_as_they_move():
    frames = [[FaceBox(10 + 4 * i, 10, 50, 50), FaceBox(300 - 4 * i, 20, 60, 60)] for i in range(6)]
    frames[3].reverse()  # the detector lists them in another order in one frame
    people = assign_people(frames)
    assert people[0] == [0, 1]
    assert people[3] == [1, 0]
    assert all(p == [0, 1] for i, p in enumerate(people) if i != 3)


def test_a_face_that_reappears_after_a_short_gap_is_the_same_person():
    frames = [[FaceBox(100, 100, 80, 80)], [], [], [FaceBox(110, 105, 80, 80)]]
    assert assign_people(frames) == [[0], [], [], [0]]


def test_a_face_far_away_or_after_a_long_gap_is_a_new_person():
    far = [[FaceBox(0, 0, 50, 50)], [FaceBox(400, 300, 50, 50)]]
    assert assign_people(far) == [[0], [1]]
    gap = [[FaceBox(0, 0, 50, 50)]] + [[]] * 6 + [[FaceBox(0, 0, 50, 50)]]
    assert assign_people(gap)[-1] == [1]


def test_people_are_mapped_back_onto_crops_in_order():
    boxes = [
        FaceBox(0, 0, 40, 40),
        FaceBox(200, 0, 40, 40),
        FaceBox(202, 0, 40, 40),
        FaceBox(2, 0, 40, 40),
    ]
    assert people_for_crops([3, 9], [3, 3, 9, 9], boxes) == [0, 1, 1, 0]
