"""Held-out faces named by a listing: the faces some earlier weights never trained on (for
lite0_sbi v2, `detection/models/lite0_sbi_v2.held_out.json`) stay out of training and make
the selection and calibration set."""
import json

import numpy as np
import pytest

from detection.training.train import _split_by_list


def test_exactly_the_listed_faces_are_held_out(tmp_path):
    keys = [f"train/real/{i}.jpg" for i in range(10)] + ["rmfd_real/a.jpg"]
    listing = tmp_path / "held.json"
    listing.write_text(json.dumps({"about": "test", "real": ["train/real/3.jpg",
                                                             "rmfd_real/a.jpg"]}))
    keep, held = _split_by_list(keys, listing, "real")
    assert [keys[i] for i in held] == ["train/real/3.jpg", "rmfd_real/a.jpg"]
    assert sorted(np.concatenate([keep, held]).tolist()) == list(range(len(keys)))
    keep, held = _split_by_list(keys, listing, "fake")  # nothing listed: nothing held out
    assert len(held) == 0 and len(keep) == len(keys)


def test_a_listed_face_missing_from_the_pool_is_an_error(tmp_path):
    listing = tmp_path / "held.json"
    listing.write_text(json.dumps({"real": ["train/real/elsewhere.jpg"]}))
    with pytest.raises(ValueError, match="not among the training faces"):
        _split_by_list(["train/real/1.jpg"], listing, "real")


def test_the_shipped_listing_names_v2s_held_out_faces():
    from django.conf import settings

    path = settings.BASE_DIR / "detection" / "models" / "lite0_sbi_v2.held_out.json"
    listing = json.loads(path.read_text())
    # The positional 10% of v2's pool of 4,132 real and 3,480 fake faces.
    assert len(listing["real"]) == 413 and len(listing["fake"]) == 348
    assert len(set(listing["real"])) == 413
    assert all(k.startswith(("train/real/", "utkface_real/", "rmfd_real/"))
               for k in listing["real"])
    assert all(k.startswith("train/fake/") for k in listing["fake"])
