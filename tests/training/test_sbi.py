import numpy as np

from detection.training.data.sbi import degrade, face_mask, self_blend

KEYPOINTS = np.array([[50, 60], [90, 60], [70, 80], [70, 100], [30, 65], [110, 65]], np.float32)


def _face():
    rng = np.random.default_rng(0)
    return rng.integers(60, 200, (160, 160, 3), dtype=np.uint8)


def test_the_mask_covers_the_face_between_the_keypoints_and_is_soft():
    mask = face_mask((160, 160), KEYPOINTS, np.random.default_rng(1))
    assert mask[80, 70] > 0.45  # the nose is inside
    assert mask[5, 5] < 0.01 and mask[155, 155] < 0.01  # corners are outside
    assert 0 < mask.max() <= 1.0
    assert len(np.unique(np.round(mask, 2))) > 10  # a gradual seam, not a hard edge


def test_without_keypoints_an_ellipse_is_used():
    mask = face_mask((160, 160), None, np.random.default_rng(2))
    assert mask[85, 80] > 0.45 and mask[2, 2] < 0.01


def test_a_self_blended_face_changes_inside_the_mask_only():
    face = _face()
    for seed in range(5):
        fake = self_blend(face, KEYPOINTS, np.random.default_rng(seed))
        assert fake.shape == face.shape and fake.dtype == np.uint8
        diff = np.abs(fake.astype(int) - face.astype(int)).mean(axis=2)
        assert diff[75:85, 65:75].mean() > diff[:10, :10].mean()
        assert diff[:10, :10].mean() < 1.0  # the background is the original


def test_degrading_keeps_the_shape_and_changes_pixels():
    face = _face()
    out = [degrade(face, np.random.default_rng(s)) for s in range(8)]
    assert all(o.shape == face.shape and o.dtype == np.uint8 for o in out)
    assert any(not np.array_equal(o, face) for o in out)


def test_a_lower_face_mask_covers_the_mouth_and_not_the_eyes():
    for seed in range(5):
        mask = face_mask((160, 160), KEYPOINTS, np.random.default_rng(seed), region="lower")
        assert mask[100, 70] > 0.45  # the mouth
        assert mask[60, 50] < 0.05 and mask[60, 90] < 0.05  # the eyes stay real


def test_an_inner_face_mask_covers_eyes_nose_and_mouth_but_not_the_ears():
    for seed in range(5):
        mask = face_mask((160, 160), KEYPOINTS, np.random.default_rng(seed), region="inner")
        assert mask[80, 70] > 0.45 and mask[100, 70] > 0.3
        assert mask[65, 20] < 0.05 and mask[65, 120] < 0.05


def test_self_blending_uses_every_region():
    from detection.training.data import sbi

    seen = set()
    original = sbi.face_mask

    def spy(shape, keypoints, rng, region="face", **options):
        seen.add(region)
        return original(shape, keypoints, rng, region, **options)

    sbi.face_mask = spy
    try:
        for seed in range(40):
            self_blend(_face(), KEYPOINTS, np.random.default_rng(seed))
    finally:
        sbi.face_mask = original
    assert seen == set(sbi.REGIONS)


def _outline():
    """A face mesh outline (face_mesh.OUTLINE_POINTS) for a face centred at (70, 85): an oval
    35 wide and 50 high, the inner face inside it, the nose in the middle."""
    from detection.training.data.face_mesh import FACE_OVAL, INNER_FACE, NOSE

    angles = np.linspace(-np.pi / 2, 1.5 * np.pi, len(FACE_OVAL), endpoint=False)
    oval = np.stack([70 + 35 * np.cos(angles), 85 + 50 * np.sin(angles)], axis=1)
    t = np.linspace(0, 2 * np.pi, len(INNER_FACE), endpoint=False)
    inner = np.stack([70 + 22 * np.cos(t), 80 + 28 * np.sin(t)], axis=1)
    nose = np.array([[62, 90], [78, 90], [70, 88]])
    assert len(nose) == len(NOSE)
    return np.vstack([oval, inner, nose]).astype(np.float32)


def test_a_mesh_mask_follows_the_outline_not_the_keypoints():
    keypoints = np.vstack([KEYPOINTS, _outline()])
    for seed in range(5):
        mask = face_mask((160, 160), keypoints, np.random.default_rng(seed), mesh=True)
        assert mask[95, 70] > 0.45  # inside the oval, below the keypoints' hull
        assert mask[85, 20] < 0.05 and mask[85, 120] < 0.05  # beside it
        lower = face_mask((160, 160), keypoints, np.random.default_rng(seed), "lower", mesh=True)
        assert lower[115, 70] > 0.45 and lower[45, 70] < 0.05  # the jaw, not the forehead


def test_without_mesh_the_outline_is_ignored_and_masks_are_as_before():
    with_outline = np.vstack([KEYPOINTS, _outline()])
    for region in ("face", "lower", "inner"):
        a = face_mask((160, 160), with_outline, np.random.default_rng(3), region)
        b = face_mask((160, 160), KEYPOINTS, np.random.default_rng(3), region)
        assert np.array_equal(a, b)


def test_a_face_the_mesh_missed_gets_the_keypoint_mask():
    missed = np.vstack([KEYPOINTS, np.full_like(_outline(), np.nan)])
    a = face_mask((160, 160), missed, np.random.default_rng(4), mesh=True)
    b = face_mask((160, 160), KEYPOINTS, np.random.default_rng(4))
    assert np.array_equal(a, b)
