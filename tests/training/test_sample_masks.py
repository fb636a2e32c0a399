"""Training samples can take their self-blending masks from the face mesh's outline."""

import numpy as np
import pytest

from detection.training.data.face_mesh import FaceMesh
from detection.training.data.samples import make_samples
from tests import media


@pytest.fixture(scope="module")
def faces():
    """The test face cut as training cuts faces, with its keypoints and its mesh outline."""
    face, again = media.cut_face(128)
    outline = FaceMesh().outline(face)
    reals = np.stack([face] * 6)
    kps = np.repeat(np.vstack([again.keypoints, outline])[None], 6, 0)
    return reals, kps, reals[:2].copy()


def _samples(faces, mask_source, kps=None):
    reals, with_outline, fakes = faces
    return make_samples(
        reals,
        with_outline if kps is None else kps,
        fakes,
        16,
        1.0,
        64,
        np.random.default_rng(7),
        mask_source,
    )


def test_mesh_masks_change_only_the_self_blended_fakes(faces):
    (x_k, y_k), (x_m, y_m) = _samples(faces, "keypoints"), _samples(faces, "mesh")
    assert y_k.sum() == y_m.sum() == 8
    # The reals are made first, from the same draws: the same samples (shuffled apart).
    assert _as_set(x_k[y_k == 0]) == _as_set(x_m[y_m == 0])
    assert _as_set(x_k[y_k == 1]) != _as_set(x_m[y_m == 1])


def _as_set(samples: np.ndarray) -> list[bytes]:
    return sorted(sample.tobytes() for sample in samples)


def test_without_an_outline_both_sources_make_the_same_samples(faces):
    six = faces[1][:, :6]
    (x_k, _), (x_m, _) = _samples(faces, "keypoints", six), _samples(faces, "mesh", six)
    assert np.array_equal(x_k, x_m)


def test_an_unknown_mask_source_is_refused(faces):
    with pytest.raises(ValueError, match="mask_source"):
        _samples(faces, "landmarks")
