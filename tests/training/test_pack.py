"""A training pack carries the faces a run trains on, compactly, and never the held-out faces."""

import cv2
import numpy as np
import pytest

from detection.training.data.pack import pack_blend_data, read_pack, write_pack
from detection.training.recipes.train import BlendTrainConfig, split_by_key
from tests import media


def _faces(n, size=96, seed=0):
    rng = np.random.default_rng(seed)
    base = cv2.resize(media.face_image(), (size, size))
    return np.stack(
        [
            cv2.convertScaleAbs(base, alpha=rng.uniform(0.8, 1.2), beta=rng.uniform(-20, 20))
            for _ in range(n)
        ]
    )


def test_a_pack_gives_back_the_faces_it_was_given(tmp_path):
    reals, fakes = _faces(6), _faces(4, seed=1)
    kps = np.arange(6 * 6 * 2, dtype=np.float32).reshape(6, 6, 2)
    written = write_pack(
        tmp_path / "p.npz", reals=reals, real_kps=kps, fakes=fakes, meta={"note": "test"}
    )
    assert written["reals"] == 6 and written["fakes"] == 4 and written["note"] == "test"
    assert written["bytes"] < reals.nbytes + fakes.nbytes  # coded, not raw
    got_reals, got_kps, got_fakes, meta = read_pack(tmp_path / "p.npz")
    assert got_reals.shape == reals.shape and got_fakes.shape == fakes.shape
    assert np.array_equal(got_kps, kps) and meta["size"] == 96
    # WebP at quality 90 is close to the original, not equal to it.
    assert np.abs(got_reals.astype(int) - reals.astype(int)).mean() < 4
    assert np.abs(got_fakes.astype(int) - fakes.astype(int)).mean() < 4


@pytest.mark.slow
def test_the_held_out_faces_stay_out_of_the_pack(tmp_path):
    for label, n in (("real", 10), ("fake", 10)):
        folder = tmp_path / "labelled" / label
        folder.mkdir(parents=True)
        for i, image in enumerate(_faces(n, size=240, seed=len(label))):
            canvas = cv2.copyMakeBorder(image, 80, 80, 80, 80, cv2.BORDER_REFLECT_101)
            cv2.imwrite(str(folder / f"{i}.jpg"), canvas)
    config = BlendTrainConfig(
        labelled_dirs=[tmp_path / "labelled"],
        real_pools=[],
        val_dir=None,
        out_dir=tmp_path / "out",
        input_size=64,
        progress=False,
        calibration_fraction=0.2,
    )
    written = pack_blend_data(config, tmp_path / "pack.npz")
    # About 20% of each class is held out for calibration, chosen by file; the rest travel.
    travel = {
        label: len(
            split_by_key([f"labelled/{label}/{i}.jpg" for i in range(10)], 0.2, config.seed)[0]
        )
        for label in ("real", "fake")
    }
    assert 5 <= travel["real"] <= 9 and 5 <= travel["fake"] <= 9
    assert written["reals"] == travel["real"] and written["fakes"] == travel["fake"]
    assert written["faces_per_source"] == {"labelled_real": 10, "labelled_fake": 10}
    reals, kps, fakes, meta = read_pack(tmp_path / "pack.npz")
    assert reals.shape == (travel["real"], 80, 80, 3) and np.isfinite(kps).all()
    assert meta["calibration_fraction"] == 0.2 and meta["held_out_split"] == "by_file"


@pytest.mark.slow
def test_the_pack_command_reads_a_data_root(tmp_path, capsys):
    from detection.training.data.pack import main

    for label in ("real", "fake"):
        folder = tmp_path / "data" / "faces" / "openforensics" / "train" / label
        folder.mkdir(parents=True)
        for i, image in enumerate(_faces(5, size=240, seed=len(label))):
            canvas = cv2.copyMakeBorder(image, 80, 80, 80, 80, cv2.BORDER_REFLECT_101)
            cv2.imwrite(str(folder / f"{i}.jpg"), canvas)
    main(
        [
            "--data",
            str(tmp_path / "data"),
            "--out",
            str(tmp_path / "p.npz"),
            "--real-pools",
            "--input-size",
            "64",
        ]
    )
    travel = {
        label: len(
            split_by_key([f"train/{label}/{i}.jpg" for i in range(5)], 0.1, BlendTrainConfig.seed)[
                0
            ]
        )
        for label in ("real", "fake")
    }
    assert all(n < 5 for n in travel.values())  # at least one of five held out
    assert f'"reals": {travel["real"]}' in capsys.readouterr().out
    reals, _, fakes, meta = read_pack(tmp_path / "p.npz")
    assert len(reals) == travel["real"] and len(fakes) == travel["fake"] and meta["size"] == 80
