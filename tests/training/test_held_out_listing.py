"""Held-out faces named by a listing: the faces some earlier weights never trained on (for
lite0_sbi v2, `detection/models/lite0_sbi_v2.held_out.json`) stay out of training and make
the selection and calibration set."""

import json

import numpy as np
import pytest

from detection.training.recipes.train import split_by_list


def test_exactly_the_listed_faces_are_held_out(tmp_path):
    keys = [f"train/real/{i}.jpg" for i in range(10)] + ["rmfd_real/a.jpg"]
    listing = tmp_path / "held.json"
    listing.write_text(
        json.dumps({"about": "test", "real": ["train/real/3.jpg", "rmfd_real/a.jpg"]})
    )
    keep, held = split_by_list(keys, listing, "real")
    assert [keys[i] for i in held] == ["train/real/3.jpg", "rmfd_real/a.jpg"]
    assert sorted(np.concatenate([keep, held]).tolist()) == list(range(len(keys)))
    keep, held = split_by_list(keys, listing, "fake")  # nothing listed: nothing held out
    assert len(held) == 0 and len(keep) == len(keys)


def test_a_listed_face_missing_from_the_pool_is_an_error(tmp_path):
    listing = tmp_path / "held.json"
    listing.write_text(json.dumps({"real": ["train/real/elsewhere.jpg"]}))
    with pytest.raises(ValueError, match="not among the training faces"):
        split_by_list(["train/real/1.jpg"], listing, "real")


def test_the_shipped_listing_names_v2s_held_out_faces():
    from django.conf import settings

    path = settings.BASE_DIR / "detection" / "models" / "lite0_sbi_v2.held_out.json"
    listing = json.loads(path.read_text())
    # The positional 10% of v2's pool of 4,132 real and 3,480 fake faces.
    assert len(listing["real"]) == 413 and len(listing["fake"]) == 348
    assert len(set(listing["real"])) == 413
    assert all(
        k.startswith(("train/real/", "utkface_real/", "rmfd_real/")) for k in listing["real"]
    )
    assert all(k.startswith("train/fake/") for k in listing["fake"])


def _faces(root, n):
    import cv2

    from tests import media

    root.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for i in range(n):
        image = cv2.convertScaleAbs(
            media.face_image(), alpha=rng.uniform(0.8, 1.2), beta=rng.uniform(-20, 20)
        )
        cv2.imwrite(str(root / f"{i}.jpg"), image)


def _listed_config(tmp_path):
    """Six real and six fake faces, a listing holding out two reals and one fake, and the
    blend recipe's config with it."""
    from detection.training.recipes.train import BlendTrainConfig

    _faces(tmp_path / "data" / "real", 6)
    _faces(tmp_path / "data" / "fake", 6)
    listing = tmp_path / "held.json"
    listing.write_text(
        json.dumps({"real": ["data/real/2.jpg", "data/real/4.jpg"], "fake": ["data/fake/0.jpg"]})
    )
    return BlendTrainConfig(
        labelled_dirs=[tmp_path / "data"],
        real_pools=[],
        val_dir=None,
        out_dir=tmp_path,
        input_size=64,
        progress=False,
        held_out_keys=listing,
    )


def test_the_blend_recipe_holds_out_the_listed_faces(tmp_path):
    from detection.training.recipes.train import prepare_blend_data

    data = prepare_blend_data(_listed_config(tmp_path))
    assert len(data.real_cal) == 2 and len(data.real_fit) == 4
    assert len(data.fake_cal) == 1 and len(data.fake_fit) == 5
    assert len(data.cal_y) == 4  # calibration samples made from the held-out faces only


def test_train_detector_names_a_missing_listing(tmp_path):
    from django.core.management import CommandError, call_command

    _faces(tmp_path / "faces" / "openforensics" / "train" / "real", 2)
    _faces(tmp_path / "faces" / "openforensics" / "train" / "fake", 2)
    with pytest.raises(CommandError, match="nothing.json"):
        call_command(
            "train_detector",
            "--architecture",
            "efficientnet_lite0",
            "--train-dir",
            str(tmp_path / "faces" / "openforensics" / "train"),
            "--real-pools",
            "--no-videos",
            "--out",
            str(tmp_path / "out"),
            "--held-out-keys",
            str(tmp_path / "nothing.json"),
            verbosity=0,
        )


def test_a_pack_made_with_a_listing_leaves_out_exactly_those_faces_and_names_it(tmp_path):
    """Weights continued from earlier ones train on a pack without the faces those never saw,
    and the pack says which listing it held out (finalising checks it)."""
    from detection.training.data.pack import pack_blend_data, read_pack

    written = pack_blend_data(_listed_config(tmp_path), tmp_path / "pack.npz")
    assert written["reals"] == 4 and written["fakes"] == 5
    reals, _, fakes, meta = read_pack(tmp_path / "pack.npz")
    assert len(reals) == 4 and len(fakes) == 5 and meta["held_out_keys"] == "held.json"
