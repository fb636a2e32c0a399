"""`python -m detection.training robustness`: labelled videos re-encoded as sites re-encode
uploads, analysed as the originals are, and compared with them clip for clip."""

import json

import cv2
import pytest

from detection.pipeline.spec import ModelSpec
from detection.training.evaluation import robustness
from detection.training.evaluation.robustness import Variant
from tests import media


def _frames(path):
    capture = cv2.VideoCapture(str(path))
    count = 0
    while capture.read()[0]:
        count += 1
    size = (int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)), int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT)))
    return count, size


def test_a_clip_is_scaled_and_recompressed_with_every_frame_kept(tmp_path):
    src = media.face_clip(tmp_path / "a.mp4", n_frames=20)
    n, (width, height) = _frames(src)
    out = robustness.reencode(src, tmp_path / "out" / "a.mp4", Variant("t", 100, 35, "t"))
    count, size = _frames(out)
    assert count == n == 20
    assert size[1] == 100 and size[0] % 2 == 0
    assert abs(size[0] / size[1] - width / height) < 0.03
    assert not list((tmp_path / "out").glob("*.part.mp4"))


def test_a_clip_is_never_scaled_up(tmp_path):
    src = media.face_clip(tmp_path / "a.mp4", n_frames=6)
    _, size = _frames(src)
    out = robustness.reencode(src, tmp_path / "b.mp4", Variant("t", 4 * size[1], 23, "t"))
    assert _frames(out)[1] == (size[0] // 2 * 2, size[1] // 2 * 2)


def test_a_variant_tree_keeps_the_labelled_paths_and_skips_unreadable_files(tmp_path):
    data = tmp_path / "data"
    (data / "c40" / "real" / "cam").mkdir(parents=True)
    (data / "c40" / "fake" / "swap").mkdir(parents=True)
    media.face_clip(data / "c40" / "real" / "cam" / "a.mp4", n_frames=6)
    media.face_clip(data / "c40" / "fake" / "swap" / "b.avi", n_frames=6)
    media.not_a_video(data / "c40" / "fake" / "swap" / "c.mp4")
    root = robustness.variant_tree(
        data, tmp_path / "work", Variant("v", 64, 30, "v"), progress=False
    )
    made = sorted(p.relative_to(root).as_posix() for p in root.rglob("*.mp4"))
    assert made == ["c40/fake/swap/b.mp4", "c40/real/cam/a.mp4"]
    # Kept between runs: a second call re-encodes nothing.
    stamp = (root / "c40/real/cam/a.mp4").stat().st_mtime_ns
    robustness.variant_tree(data, tmp_path / "work", Variant("v", 64, 30, "v"), progress=False)
    assert (root / "c40/real/cam/a.mp4").stat().st_mtime_ns == stamp


def _rows(root, probabilities, labels):
    return [
        {
            "path": str(root / f"{'fake' if y else 'real'}" / f"{i}.mp4"),
            "label": y,
            "fake_probability": p,
        }
        for i, (p, y) in enumerate(zip(probabilities, labels))
    ]


def test_variants_are_compared_with_the_originals_on_the_clips_all_of_them_scored(tmp_path):
    spec = ModelSpec(
        name="m",
        version="1",
        architecture="a",
        weights_file="x",
        uncertain_low=0.3,
        uncertain_high=0.7,
    )
    labels = [0] * 6 + [1] * 6
    original = [0.1, 0.2, 0.2, 0.4, 0.5, 0.6, 0.5, 0.6, 0.8, 0.8, 0.9, 0.95]
    worse = [0.2, 0.5, 0.3, 0.6, 0.5, 0.6, 0.1, 0.2, 0.5, 0.8, 0.9, None]  # one lost its face
    report = robustness.compare_variants(
        spec,
        tmp_path / "o",
        _rows(tmp_path / "o", original, labels),
        {"480p": (tmp_path / "v", _rows(tmp_path / "v", worse, labels))},
    )
    assert report["clips"] == 11 and report["left_out"] == 1
    o, v = report["variants"]["original"], report["variants"]["480p"]
    assert v["unscored"] == 1 and o["unscored"] == 0
    assert v["auc"] < o["auc"]
    assert v["auc_difference"]["difference"] == pytest.approx(v["auc"] - o["auc"])
    # The version's video band: fakes below 0.3 are called real.
    assert v["fakes_called_real"] == pytest.approx(2 / 5)
    assert o["fakes_called_real"] == 0.0
    assert v["label"] == robustness.VARIANTS["480p"].label


@pytest.mark.slow
def test_the_command_measures_the_shipped_model_and_writes_its_card(tmp_path):
    import shutil

    from django.conf import settings

    shipped = settings.DETECTION_DEFAULT_MODEL_SPEC
    spec = ModelSpec.load(shipped)
    for name in {spec.weights_file, spec.serving_file}:
        shutil.copy(shipped.parent / name, tmp_path / name)
    model = tmp_path / shipped.name
    shutil.copy(shipped, model)
    data = tmp_path / "data"
    for label, n in (("real", 2), ("fake", 2)):
        (data / label).mkdir(parents=True)
        for i in range(n):
            media.face_clip(data / label / f"{i}.mp4", n_frames=8 + 4 * i)
    out = tmp_path / "r.json"
    assert (
        robustness.main(
            [
                "--model",
                str(model),
                "--data",
                str(data),
                "--work",
                str(tmp_path / "work"),
                "--variants",
                "360p_crf30",
                "--json",
                str(out),
                "--write",
            ]
        )
        == 0
    )
    report = json.loads(out.read_text())
    assert set(report["variants"]) == {"original", "360p_crf30"}
    assert report["clips"] == 4
    saved = ModelSpec.load(model)
    assert saved.metrics["robustness"]["variants"]["360p_crf30"]["auc"] is not None
    card = model.with_suffix(".md").read_text()
    assert "## Robustness to re-encoding" in card and "360 lines" in card
