"""Training compressions as H.264 video frames (`--h264-share`), and the re-encoded held-out
faces `compare` scores candidates on."""

import cv2
import numpy as np

from detection.training.data.samples import make_samples
from detection.training.data.sbi import degrade, h264_roundtrip
from detection.training.evaluation.compare import reencoded
from tests import media


def _face(size=160):
    return cv2.resize(media.face_image(), (size, size))


def test_an_h264_frame_keeps_the_picture_and_loses_detail_with_the_crf():
    face = _face(161)  # odd sides: H.264 needs even ones, the output keeps the input's
    light, heavy = h264_roundtrip(face, 18), h264_roundtrip(face, 45)
    assert light.shape == heavy.shape == face.shape and light.dtype == np.uint8
    error = [np.abs(x.astype(int) - face).mean() for x in (light, heavy)]
    assert 0 < error[0] < error[1] < 20


def test_without_an_h264_share_the_degradations_are_exactly_the_jpeg_ones():
    face = _face()
    for seed in range(30):
        a = degrade(face, np.random.default_rng(seed))
        b = degrade(face, np.random.default_rng(seed), h264_share=0.0)
        assert np.array_equal(a, b)


def test_an_h264_share_replaces_jpeg_in_that_share_of_the_compressions(monkeypatch):
    from detection.training.data import sbi

    calls = []
    real = sbi.h264_roundtrip
    monkeypatch.setattr(
        sbi, "h264_roundtrip", lambda image, crf: calls.append(crf) or real(image, crf)
    )
    face = _face()
    for seed in range(200):
        degrade(face, np.random.default_rng(seed), h264_share=0.5)
    # About 0.8 of the samples are compressed (a quarter c40-like, always; 80% of the rest),
    # half of those as H.264: about 85 of 200.
    assert 55 < len(calls) < 115
    assert min(calls) >= 18 and max(calls) < 42


def test_samples_carry_the_h264_share_to_every_class():
    reals = np.stack([_face()] * 4)
    kps = np.full((4, 6, 2), np.nan, np.float32)
    a = make_samples(reals, kps, reals, 16, 0.5, 128, np.random.default_rng(0))
    b = make_samples(reals, kps, reals, 16, 0.5, 128, np.random.default_rng(0), h264_share=1.0)
    assert a[0].shape == b[0].shape == (16, 128, 128, 3)
    assert a[1].sum() == b[1].sum() == 8  # half of each, shuffled by the same stream
    assert not np.array_equal(np.sort(a[0], axis=None), np.sort(b[0], axis=None))


def test_the_reencoded_held_out_faces_are_one_fixed_transform():
    faces = np.stack([_face(128)[..., ::-1], _face(128)]).astype(np.float32)
    once, again = reencoded(faces), reencoded(faces)
    assert once.shape == faces.shape and np.array_equal(once, again)
    assert 1 < np.abs(once - faces).mean() < 25
    # RGB in, RGB out: the colours stay where they were.
    assert np.abs(once.mean(axis=(1, 2)) - faces.mean(axis=(1, 2))).max() < 8
