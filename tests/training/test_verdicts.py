"""What users feel, measured: verdict shares per dataset from labelled videos."""

from pathlib import Path

from detection.training.evaluation.verdicts import dataset_of, summarise


def row(label, verdict, p, reasons=()):
    return {
        "label": label,
        "verdict": verdict,
        "fake_probability": p,
        "reasons": list(reasons),
        "seconds": 1.0,
    }


def test_the_shares_count_auto_cleared_fakes_flagged_reals_and_uncertain_videos():
    rows = [
        row(1, "real", 0.1),
        row(1, "fake", 0.9),
        row(1, "uncertain", 0.5, ["fake_stretch"]),
        row(1, "fake", 0.8),
        row(0, "real", 0.05),
        row(0, "fake", 0.7),
        row(0, "no_face", None),
        row(0, "uncertain", 0.4, ["small_faces"]),
    ]
    s = summarise(rows)
    assert s["n"] == 8 and s["n_fake"] == 4
    assert s["fakes_called_real"] == 0.25
    assert s["reals_called_fake"] == 0.25
    assert s["uncertain"] == 3 / 8  # two uncertain and one without a face
    assert s["reasons"] == {"fake_stretch": 1, "small_faces": 1}
    assert s["no_face"] == 1
    assert 0.5 < s["auc"] < 1.0


def test_datasets_are_told_apart_by_their_folders():
    assert dataset_of(Path("data/videos/generators/fake/x.mp4")) == "generators"
    assert dataset_of(Path("data/videos/ffpp_c40/fake/Deepfakes/a.mp4")) == "ffpp"
