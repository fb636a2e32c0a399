"""Training with worker processes making the samples: a tiny run on the CPU writes weights the
pipeline can finalise and serve, keeps its snapshots, and follows its learning-rate schedule."""

import json

import cv2
import numpy as np
import pytest

from detection.training.data.pack import write_pack
from detection.training.recipes.parallel_train import (
    Arm,
    ParallelTrainConfig,
    learning_rate_at,
    train_parallel,
)
from tests import media

KEYPOINTS = np.array([[28, 34], [52, 34], [40, 46], [40, 58], [18, 38], [62, 38]], np.float32)


def test_the_learning_rate_warms_up_then_decays_to_its_floor():
    config = ParallelTrainConfig(
        pack=None, out_dir=None, learning_rate=1e-3, warmup_fraction=0.1, final_lr_fraction=0.02
    )
    assert learning_rate_at(0.0, config) == pytest.approx(5e-5)
    assert learning_rate_at(0.05, config) == pytest.approx(5e-4)
    assert learning_rate_at(0.1, config) == pytest.approx(1e-3)
    assert learning_rate_at(0.55, config) == pytest.approx((1e-3 + 2e-5) / 2)
    assert learning_rate_at(1.0, config) == pytest.approx(2e-5)
    rates = [learning_rate_at(p, config) for p in np.linspace(0.1, 1, 20)]
    assert all(a >= b for a, b in zip(rates, rates[1:]))


def _pack(tmp_path):
    rng = np.random.default_rng(0)
    base = cv2.resize(media.face_image(), (80, 80))
    faces = np.stack(
        [
            cv2.convertScaleAbs(base, alpha=rng.uniform(0.8, 1.2), beta=rng.uniform(-20, 20))
            for _ in range(12)
        ]
    )
    write_pack(
        tmp_path / "pack.npz",
        reals=faces[:8],
        real_kps=np.repeat(KEYPOINTS[None], 8, 0),
        fakes=faces[8:],
        meta={},
    )
    return faces


def test_mesh_masks_need_a_pack_with_outlines(tmp_path):
    _pack(tmp_path)  # six keypoints per face, no mesh outline
    with pytest.raises(ValueError, match="mesh outlines"):
        train_parallel(
            ParallelTrainConfig(
                pack=tmp_path / "pack.npz",
                out_dir=tmp_path / "out",
                mask_source="mesh",
                workers=1,
                chunk=32,
                batch_size=16,
            ),
            log=lambda _: None,
        )


def test_an_arm_is_a_name_a_learning_rate_and_frozen_blocks():
    assert Arm.parse("f10:1e-4:10") == Arm("f10", 1e-4, 10)
    assert Arm.parse("all:3e-5") == Arm("all", 3e-5, 0)
    for bad in ("f10", "a/b:1e-4", ":1e-4", "x:1:2:3", "x:fast"):
        with pytest.raises(ValueError):
            Arm.parse(bad)
    config = ParallelTrainConfig(pack=None, out_dir=None, arms=(Arm("a", 1e-4), Arm("a", 1e-5)))
    with pytest.raises(ValueError, match="arm names must differ"):
        config.resolved_arms()


@pytest.mark.slow
def test_a_tiny_run_writes_weights_and_snapshots(tmp_path):
    faces = _pack(tmp_path)
    out = tmp_path / "out"
    summary = train_parallel(
        ParallelTrainConfig(
            pack=tmp_path / "pack.npz",
            out_dir=out,
            input_size=64,
            seconds=600,
            max_samples=96,
            workers=1,
            chunk=32,
            batch_size=16,
            snapshots=(0.5,),
        ),
        log=lambda _: None,
    )
    assert summary["samples_seen"] == 96  # the sample budget ended the run, not the clock
    assert len(summary["history"]["loss"]) == 3
    assert (out / "trained.keras").is_file() and (out / "trained_at_50pct.keras").is_file()
    saved = json.loads((out / "trained.json").read_text())
    assert saved["samples_seen"] == 96 and saved["pack"]["reals"] == 8
    assert saved["config"]["batch_size"] == 16 and saved["config"]["warmup_fraction"] == 0.05
    # The clock starts once the first batch is fitted: compiling is not training time, and
    # the first batch is fitted at the very start of the schedule.
    assert saved["first_batch_seconds"] > 0
    assert saved["history"]["seconds"][0] == 0.0
    assert saved["history"]["lr"][0] == pytest.approx(
        learning_rate_at(0.0, ParallelTrainConfig(pack=None, out_dir=None))
    )

    import keras

    model = keras.models.load_model(out / "trained.keras", compile=False)
    scores = model.predict(faces[:4, 8:72, 8:72, ::-1].astype(np.float32), verbose=0)
    assert scores.shape == (4, 1) and np.all((scores >= 0) & (scores <= 1))


@pytest.mark.slow
def test_arms_train_side_by_side_on_the_same_samples(tmp_path):
    """Each arm trains its own model from the same start on the same sample stream, into its
    own folder, and its record carries its own settings (what finalising reads)."""
    import keras

    from detection.training.recipes.architectures import build

    _pack(tmp_path)
    start = build("efficientnet_lite0", 64, 3)
    start.save(tmp_path / "start.keras")
    out = tmp_path / "out"
    summary = train_parallel(
        ParallelTrainConfig(
            pack=tmp_path / "pack.npz",
            out_dir=out,
            init_weights=tmp_path / "start.keras",
            input_size=64,
            seconds=600,
            max_samples=64,
            workers=1,
            chunk=32,
            batch_size=16,
            snapshots=(0.5,),
            arms=(Arm("free", 1e-2), Arm("frozen", 1e-2, 16)),
        ),
        log=lambda _: None,
    )
    assert set(summary) == {"free", "frozen"}
    assert summary["free"]["history"]["samples"] == summary["frozen"]["history"]["samples"]
    for name, lr, frozen in (("free", 1e-2, 0), ("frozen", 1e-2, 16)):
        assert (out / name / "trained.keras").is_file()
        assert (out / name / "trained_at_50pct.keras").is_file()
        record = json.loads((out / name / "trained.json").read_text())
        assert record["config"]["arm"] == name and record["config"]["learning_rate"] == lr
        assert record["config"]["freeze_blocks"] == frozen and record["samples_seen"] == 64

    def weights(path, layer):
        return keras.models.load_model(path, compile=False).get_layer(layer).get_weights()[0]

    first = start.get_layer("stem_conv").get_weights()[0]
    # All 16 blocks frozen: only the head moved. The free arm moved everywhere.
    assert np.array_equal(weights(out / "frozen" / "trained.keras", "stem_conv"), first)
    assert not np.array_equal(weights(out / "free" / "trained.keras", "stem_conv"), first)
    head = start.get_layer("fake").get_weights()[0]
    for name in ("free", "frozen"):
        assert not np.array_equal(weights(out / name / "trained.keras", "fake"), head)


def test_an_h264_share_must_be_a_share(tmp_path):
    _pack(tmp_path)
    with pytest.raises(ValueError, match="h264_share"):
        train_parallel(
            ParallelTrainConfig(
                pack=tmp_path / "pack.npz",
                out_dir=tmp_path / "out",
                h264_share=1.5,
                workers=1,
                chunk=32,
                batch_size=16,
            ),
            log=lambda _: None,
        )
