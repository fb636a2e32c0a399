"""Candidates are compared on faces cut once and cached: each is scored exactly as the full
evaluation scores it, the held-out faces choose, and a second run reads the cache."""

import json

import cv2
import numpy as np
import pytest

from tests import media

pytestmark = pytest.mark.slow


def _pictures(folder, n, seed, tint=0):
    folder.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    for i in range(n):
        image = cv2.convertScaleAbs(
            media.face_image(), alpha=rng.uniform(0.8, 1.2), beta=rng.uniform(-20, 20) + tint
        )
        cv2.imwrite(
            str(folder / f"{i}.jpg"),
            cv2.copyMakeBorder(image, 60, 60, 60, 60, cv2.BORDER_REFLECT_101),
        )


def _clip(path, alpha, beta):
    base = media.face_image()
    frames = []
    for i in range(20):
        shift = np.float32([[1, 0, 3 * np.sin(i / 5 + alpha)], [0, 1, 2 * np.cos(i / 7)]])
        frame = cv2.warpAffine(
            base, shift, (base.shape[1], base.shape[0]), borderMode=cv2.BORDER_REPLICATE
        )
        frames.append(cv2.convertScaleAbs(frame, alpha=alpha, beta=beta))
    path.parent.mkdir(parents=True, exist_ok=True)
    return media.write_video(path, frames)


@pytest.fixture
def setup(tmp_path):
    from detection.pipeline.spec import ModelSpec
    from detection.training.recipes.architectures import build

    data = tmp_path / "data"
    for label, tint in (("real", 0), ("fake", 25)):
        _pictures(data / "faces" / "openforensics" / "train" / label, 6, len(label), tint)
        _pictures(data / "faces" / "openforensics" / "val" / label, 4, 10 + len(label), tint)
    for i, (alpha, beta) in enumerate(((1.0, 0), (0.9, 10), (1.1, -10))):
        _clip(data / "videos" / "real" / f"r{i}.mp4", alpha, beta)
        _clip(data / "videos" / "fake" / "Method" / f"f{i}.mp4", alpha, beta + 30)
    models = tmp_path / "models"
    models.mkdir()
    import keras

    keras.utils.set_random_seed(1)
    build("efficientnet_lite0", 64, 3).save(models / "a.keras")
    keras.utils.set_random_seed(2)
    build("efficientnet_lite0", 64, 3).save(models / "b.keras")
    spec = ModelSpec(
        name="cmp",
        version="1",
        architecture="efficientnet_lite0",
        weights_file="a.keras",
        input_size=64,
        channels=3,
        face_margin=0.3,
        test_time_flip=True,
        person_pooling="mean_logit",
    )
    spec.save(models / "cmp_v1.json")
    return data, models


def test_candidates_score_as_the_full_evaluation_and_the_held_out_faces_choose(
    setup, tmp_path, capsys
):
    from detection.training.evaluation.compare import main
    from detection.training.evaluation.evaluate import (
        evaluate_frames,
        evaluate_videos,
        load_analyser,
    )

    data, models = setup
    cache, report = tmp_path / "cache", tmp_path / "report.jsonl"
    args = [
        "--spec",
        str(models / "cmp_v1.json"),
        "--data",
        str(data),
        "--real-pools",
        "--cache",
        str(cache),
        "--json",
        str(report),
        str(models / "a.keras"),
        str(models / "b.keras"),
    ]
    assert main(args) == 0
    lines = [json.loads(line) for line in report.read_text().splitlines()]
    assert [line["candidate"] for line in lines] == [
        str(models / "a.keras"),
        str(models / "b.keras"),
    ]
    for line in lines:
        for key in ("held_out", "frames", "videos"):
            assert 0.0 <= line[key] <= 1.0
            lo, hi = line[f"{key}_ci95"]
            assert lo <= line[key] <= hi
        assert set(line["videos_by_component"]) == {"Method"}  # fakes by method
        # The held-out faces once more as a low-resolution re-encoding leaves them.
        assert 0.0 <= line["held_out_reencoded"] <= 1.0
    out = capsys.readouterr().out
    assert "re-encoded" in out
    best = max(lines, key=lambda line: line["held_out"])
    assert f"held-out choice: {best['candidate']}" in out

    # Candidate a is the spec's own weights: the full evaluation gives the same figures.
    analyser = load_analyser(models / "cmp_v1.json", prefer="keras")
    frames = evaluate_frames(analyser, data / "faces" / "openforensics" / "val", progress=False)
    videos = evaluate_videos(analyser, data / "videos", progress=False)
    assert lines[0]["frames"] == pytest.approx(frames["auc"], abs=1e-9)
    assert lines[0]["videos"] == pytest.approx(videos["overall"]["auc"], abs=1e-9)

    # The faces come from the cache now: the data can be gone.
    import shutil

    assert sorted(p.name for p in cache.glob("*.pkl")) == [
        "frames_cmp_v1.pkl",
        "held_out_by_file_64.pkl",
        "videos_cmp_v1_look4.pkl",
    ]
    shutil.rmtree(data)
    report.unlink()
    assert main(args) == 0
    again = [json.loads(line) for line in report.read_text().splitlines()]
    assert again == lines


def test_litert_conversions_are_candidates_too(setup, tmp_path):
    """A float32 conversion scores as its .keras does; an int8 one (quantize's kind) is scored
    the same way, so quantizations can be compared on the held-out faces before one ships."""
    from detection.pipeline.classify import convert_to_tflite
    from detection.training.evaluation.compare import main

    data, models = setup
    float_file = convert_to_tflite(models / "a.keras", tmp_path / "a.tflite")
    rng = np.random.default_rng(0)
    int8_file = convert_to_tflite(
        models / "a.keras",
        tmp_path / "a_int8.tflite",
        representative=rng.uniform(0, 255, (8, 64, 64, 3)),
    )
    report = tmp_path / "report.jsonl"
    assert (
        main(
            [
                "--spec",
                str(models / "cmp_v1.json"),
                "--data",
                str(data),
                "--real-pools",
                "--cache",
                str(tmp_path / "cache"),
                "--json",
                str(report),
                str(models / "a.keras"),
                str(float_file),
                str(int8_file),
            ]
        )
        == 0
    )
    keras_line, float_line, int8_line = [json.loads(x) for x in report.read_text().splitlines()]
    for key in ("held_out", "frames", "videos"):
        assert float_line[key] == pytest.approx(keras_line[key], abs=1e-6)
        assert 0.0 <= int8_line[key] <= 1.0
    assert int8_line["candidate"].endswith("a_int8.tflite")


def test_candidates_of_another_input_size_are_cut_at_their_size(setup, tmp_path):
    """`--input-size`: a resolution experiment is compared with the serving spec's detector
    and margin, its faces sized for it (and cached apart); it scores as a spec of that size
    serving it would."""
    import dataclasses

    import keras

    from detection.pipeline.spec import ModelSpec
    from detection.training.evaluation.compare import main
    from detection.training.evaluation.evaluate import (
        evaluate_frames,
        evaluate_videos,
        load_analyser,
    )
    from detection.training.recipes.architectures import build

    data, models = setup
    keras.utils.set_random_seed(3)
    build("efficientnet_lite0", 80, 3).save(models / "c80.keras")
    cache, report = tmp_path / "cache", tmp_path / "report.jsonl"
    assert (
        main(
            [
                "--spec",
                str(models / "cmp_v1.json"),
                "--data",
                str(data),
                "--real-pools",
                "--cache",
                str(cache),
                "--json",
                str(report),
                "--input-size",
                "80",
                str(models / "c80.keras"),
            ]
        )
        == 0
    )
    line = json.loads(report.read_text())
    assert sorted(p.name for p in cache.glob("*.pkl")) == [
        "frames_cmp_v1_80.pkl",
        "held_out_by_file_80.pkl",
        "videos_cmp_v1_80_look4.pkl",
    ]

    spec80 = dataclasses.replace(
        ModelSpec.load(models / "cmp_v1.json"),
        version="80",
        input_size=80,
        weights_file="c80.keras",
    )
    spec80.save(models / "cmp_v80.json")
    analyser = load_analyser(models / "cmp_v80.json", prefer="keras")
    frames = evaluate_frames(analyser, data / "faces" / "openforensics" / "val", progress=False)
    videos = evaluate_videos(analyser, data / "videos", progress=False)
    assert line["frames"] == pytest.approx(frames["auc"], abs=1e-9)
    assert line["videos"] == pytest.approx(videos["overall"]["auc"], abs=1e-9)


def test_a_reference_gives_each_candidate_its_paired_difference(setup, tmp_path, capsys):
    from detection.training.evaluation.compare import main

    data, models = setup
    report = tmp_path / "report.jsonl"
    assert (
        main(
            [
                "--spec",
                str(models / "cmp_v1.json"),
                "--data",
                str(data),
                "--real-pools",
                "--cache",
                str(tmp_path / "cache"),
                "--json",
                str(report),
                "--reference",
                str(models / "a.keras"),
                str(models / "a.keras"),
                str(models / "b.keras"),
            ]
        )
        == 0
    )
    a, b = [json.loads(line) for line in report.read_text().splitlines()]
    for key in ("held_out", "frames", "videos"):
        assert a["vs_reference"][key]["difference"] == 0.0
        assert a["vs_reference"][key]["ci95"] == [0.0, 0.0]
        d = b["vs_reference"][key]
        assert d["difference"] == pytest.approx(b[key] - a[key], abs=1e-12)
        lo, hi = d["ci95"]
        assert -1.0 <= lo <= hi <= 1.0 and 0.0 <= d["share_below_zero"] <= 1.0
    assert b["vs_reference"]["reference"] == str(models / "a.keras")
    assert "  vs a.keras" in capsys.readouterr().out
