"""Self-blended training at accelerator speed: worker processes make the samples, one process
trains, for a fixed wall-clock budget.

The CPU recipe (`train.train_blend_model`) makes each epoch's samples and then fits them, which
suits 2 cores. With a GPU the model is no longer the bottleneck: here `workers` processes keep
making fresh self-blended batches (every sample is new, so a long run does not see the same fake
twice) while the main process fits them. The learning rate follows a cosine over the time
budget, and a checkpoint is written every `checkpoint_every_s` seconds so a run cut short still
leaves weights. Any Keras 3 backend works (JAX, PyTorch or TensorFlow); the weights it writes load
in all of them. Plain Python, no Django: `python -m detection.training train-parallel --help`.

The run reads a pack (`pack.py`) holding only the faces to train on; calibration and the model
card are made afterwards where the held-out faces are (`train_detector --trained-weights`).

Arms: an accelerator lease is short and making samples is the bottleneck, so one run can train
several variants (`Arm`: learning rate, frozen blocks) side by side on the same sample stream,
each into its own folder. Every arm sees exactly the same samples in the same order, so arms
differ only in what they were told to differ in.
"""

from __future__ import annotations

import argparse
import collections
import json
import math
import multiprocessing
import os
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

_DATA: dict = {}  # set before the workers fork, so each inherits the faces without copying


@dataclass(frozen=True)
class Arm:
    """One variant trained on the shared sample stream, written to `out_dir/<name>/`."""

    name: str
    learning_rate: float
    freeze_blocks: int = 0

    @classmethod
    def parse(cls, text: str) -> Arm:
        """`NAME:LEARNING_RATE[:FREEZE_BLOCKS]`, as given on the command line."""
        parts = text.split(":")
        if len(parts) not in (2, 3) or not parts[0] or "/" in parts[0]:
            raise ValueError(f"an arm is NAME:LEARNING_RATE[:FREEZE_BLOCKS], not {text!r}")
        return cls(parts[0], float(parts[1]), int(parts[2]) if len(parts) == 3 else 0)


@dataclass(frozen=True)
class ParallelTrainConfig:
    pack: Path
    out_dir: Path
    init_weights: Path | None = None  # a .keras model of this architecture and input size
    architecture: str = "efficientnet_lite0"
    input_size: int = 128
    sbi_share: float = 0.6
    mask_source: str = "keypoints"  # or "mesh": the face mesh's outline (samples.MASK_SOURCES)
    h264_share: float = 0.0  # share of the compressions made as H.264 frames (sbi.degrade)
    seconds: float = 300.0  # training budget (after start-up)
    max_samples: int | None = None
    workers: int = max(1, (os.cpu_count() or 2) - 2)
    chunk: int = 2048  # samples per worker task (a multiple of batch_size)
    batch_size: int = 128
    learning_rate: float = 3e-4
    warmup_fraction: float = 0.05
    final_lr_fraction: float = 0.02
    freeze_blocks: int = 0
    checkpoint_every_s: float = 60.0
    snapshots: tuple[float, ...] = ()  # also keep the weights at these shares of the budget
    deadline: float | None = None  # Unix time: stop in time to save (start-up counts too)
    seed: int = 1234
    arms: tuple[Arm, ...] = ()  # empty: one model (learning_rate, freeze_blocks) into out_dir

    def resolved_arms(self) -> list[tuple[Arm, Path]]:
        if not self.arms:
            return [(Arm("", self.learning_rate, self.freeze_blocks), self.out_dir)]
        names = [arm.name for arm in self.arms]
        if len(set(names)) != len(names):
            raise ValueError(f"arm names must differ: {names}")
        return [(arm, self.out_dir / arm.name) for arm in self.arms]


def _make_chunk(index: int) -> tuple[np.ndarray, np.ndarray]:
    from detection.training.data.samples import make_samples

    rng = np.random.default_rng([_DATA["seed"], index])
    return make_samples(
        _DATA["reals"],
        _DATA["real_kps"],
        _DATA["fakes"],
        _DATA["chunk"],
        _DATA["sbi_share"],
        _DATA["size"],
        rng,
        _DATA["mask_source"],
        _DATA["h264_share"],
    )


def learning_rate_at(
    progress: float, config: ParallelTrainConfig, peak: float | None = None
) -> float:
    """Linear warm-up, then a cosine down to `final_lr_fraction` of the peak (`peak`, default
    the config's learning rate)."""
    peak = config.learning_rate if peak is None else peak
    if progress < config.warmup_fraction:
        return peak * max(progress / config.warmup_fraction, 0.05)
    t = min(1.0, (progress - config.warmup_fraction) / max(1e-9, 1 - config.warmup_fraction))
    floor = peak * config.final_lr_fraction
    return floor + (peak - floor) * 0.5 * (1 + math.cos(math.pi * t))


def _save(model, config: ParallelTrainConfig, path: Path) -> None:
    from detection.training.recipes.architectures import build

    serving = build(config.architecture, config.input_size, 3)
    serving.set_weights(model.get_weights())
    tmp = path.with_name(path.stem + ".tmp.keras")
    serving.save(tmp)
    os.replace(tmp, path)  # a reader never sees half a file


def train_parallel(config: ParallelTrainConfig, log=print) -> dict:
    from detection.training.data.pack import read_pack

    started = time.monotonic()
    reals, real_kps, fakes, meta = read_pack(config.pack)
    if config.chunk % config.batch_size:
        raise ValueError("chunk must be a multiple of batch_size")
    _DATA.update(
        reals=reals,
        real_kps=real_kps,
        fakes=fakes,
        chunk=config.chunk,
        sbi_share=config.sbi_share,
        size=config.input_size,
        seed=config.seed,
        mask_source=config.mask_source,
        h264_share=config.h264_share,
    )
    if not 0 <= config.h264_share <= 1:
        raise ValueError("h264_share is a share, 0 to 1")
    if config.mask_source == "mesh" and (
        real_kps.shape[1] <= 6 or not np.isfinite(real_kps[:, 6:]).any()
    ):
        raise ValueError(
            "--mask-source mesh needs a pack with the faces' mesh outlines "
            "(written by this version of detection.training.data.pack)"
        )
    log(
        f"pack: {len(reals)} reals, {len(fakes)} fakes at {reals.shape[1]} px "
        f"({time.monotonic() - started:.1f} s)"
    )
    # Fork the workers before the backend starts threads or a GPU context.
    pool = multiprocessing.get_context("fork").Pool(config.workers)

    import keras

    from detection.training.recipes.architectures import build, freeze_first_blocks

    keras.utils.set_random_seed(config.seed)
    arms = config.resolved_arms()
    init = (
        keras.models.load_model(config.init_weights, compile=False).get_weights()
        if config.init_weights
        else None
    )
    models = []
    for arm, out in arms:
        model = build(config.architecture, config.input_size, 3)
        if init is not None:
            model.set_weights(init)
        if arm.freeze_blocks > 0:
            freeze_first_blocks(model, arm.freeze_blocks)
        model.compile(
            optimizer=keras.optimizers.Adam(arm.learning_rate), loss="binary_crossentropy"
        )
        out.mkdir(parents=True, exist_ok=True)
        models.append(model)
    log(
        f"backend {keras.backend.backend()}, {config.workers} sample workers, "
        f"{len(arms)} model(s), start-up {time.monotonic() - started:.1f} s"
    )

    pending: collections.deque = collections.deque()
    next_index = 0

    def top_up():
        nonlocal next_index
        while len(pending) < 2 * config.workers:
            pending.append(pool.apply_async(_make_chunk, (next_index,)))
            next_index += 1

    top_up()
    histories = [{"samples": [], "loss": [], "lr": [], "seconds": [], "waited_s": []} for _ in arms]
    seen, waited, t0, first_fit_s = 0, 0.0, None, 0.0
    kept: dict[float, dict] = {}
    last_checkpoint = time.monotonic()
    while True:
        w = time.monotonic()
        x, y = pending.popleft().get()
        top_up()
        if t0 is not None:
            waited += time.monotonic() - w
        progress = 0.0 if t0 is None else (time.monotonic() - t0) / config.seconds
        if config.max_samples:
            progress = max(progress, seen / config.max_samples)
        if progress >= 1.0 or (config.deadline and time.time() >= config.deadline - 20):
            break
        for share in config.snapshots:
            if progress >= share and share not in kept:
                for model, (_, out) in zip(models, arms):
                    _save(model, config, out / f"trained_at_{round(share * 100)}pct.keras")
                kept[share] = {
                    "samples": seen,
                    "seconds": round(time.monotonic() - t0, 1) if t0 else 0.0,
                }
        losses, fitting = [], time.monotonic()
        for model, (arm, _), history in zip(models, arms, histories):
            lr = learning_rate_at(progress, config, arm.learning_rate)
            model.optimizer.learning_rate.assign(lr)
            fit = model.fit(x, y, batch_size=config.batch_size, epochs=1, shuffle=False, verbose=0)
            losses.append(float(fit.history["loss"][-1]))
            history["lr"].append(lr)
            history["loss"].append(losses[-1])
        seen += len(y)
        if t0 is None:
            # The budget is training time: the clock starts once every arm has fitted its
            # first batch, which includes compiling it (86 s for four arms under XLA on an
            # H200, a fifth of a 480 s lease that the schedule would otherwise have spent).
            t0 = time.monotonic()
            first_fit_s = t0 - fitting
            log(f"first batch fitted (compiling included) in {first_fit_s:.1f} s")
        elapsed = time.monotonic() - t0
        for history in histories:
            history["samples"].append(seen)
            history["seconds"].append(round(elapsed, 1))
            history["waited_s"].append(round(waited, 1))
        log(
            f"{elapsed:7.1f} s  {seen:8d} samples  "
            f"{f'{seen / elapsed:7.0f}/s' if elapsed > 0 else '      -  '}  "
            f"loss {' '.join(f'{v:.4f}' for v in losses)}  "
            f"lr {histories[0]['lr'][-1]:.2e}  waited for samples {waited:.0f} s"
        )
        if time.monotonic() - last_checkpoint >= config.checkpoint_every_s:
            for model, (_, out) in zip(models, arms):
                _save(model, config, out / "checkpoint.keras")
            last_checkpoint = time.monotonic()
    elapsed = time.monotonic() - (t0 or started)
    summaries = []
    for model, (arm, out), history in zip(models, arms, histories):
        _save(model, config, out / "trained.keras")
        settings = {
            k: str(v) if isinstance(v, Path) else v
            for k, v in asdict(config).items()
            if k != "arms"
        }
        if config.arms:  # the arm's own settings are what finalising the weights records
            settings.update(
                learning_rate=arm.learning_rate,
                freeze_blocks=arm.freeze_blocks,
                arm=arm.name,
                arms=[asdict(a) for a in config.arms],
                out_dir=str(out),
            )
        summary = {
            "config": settings,
            "pack": meta,
            "backend": keras.backend.backend(),
            "samples_seen": seen,
            "train_seconds": round(elapsed, 1),
            "samples_per_second": round(seen / elapsed, 1),
            "seconds_waiting_for_samples": round(waited, 1),
            "first_batch_seconds": round(first_fit_s, 1),
            "snapshots": {f"trained_at_{round(k * 100)}pct.keras": v for k, v in kept.items()},
            "history": history,
        }
        (out / "trained.json").write_text(json.dumps(summary, indent=1))
        summaries.append(summary)
    log(
        f"done: {seen} samples in {elapsed:.0f} s -> "
        + ", ".join(str(out / "trained.keras") for _, out in arms)
    )
    # Only now stop the workers: terminating a pool whose workers are blocked writing large
    # batches into its pipe can hang, and a run once lost its final save that way.
    stopper = threading.Thread(target=pool.terminate, daemon=True)
    stopper.start()
    stopper.join(timeout=10)
    return (
        summaries[0]
        if not config.arms
        else {arm.name: summary for (arm, _), summary in zip(arms, summaries)}
    )


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pack", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--init-weights", type=Path)
    parser.add_argument("--input-size", type=int, default=128)
    parser.add_argument("--seconds", type=float, default=300)
    parser.add_argument(
        "--deadline",
        type=float,
        help="Unix time by which the run must have written its weights; "
        "shortens --seconds if need be",
    )
    parser.add_argument("--max-samples", type=int)
    parser.add_argument("--workers", type=int, default=ParallelTrainConfig.workers)
    parser.add_argument("--chunk", type=int, default=2048)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--learning-rate", type=float, default=3e-4)
    parser.add_argument("--sbi-share", type=float, default=0.6)
    parser.add_argument(
        "--mask-source",
        choices=("keypoints", "mesh"),
        default="keypoints",
        help="shape the self-blending masks by BlazeFace's six keypoints or by "
        "the face mesh's outline (stored in the pack)",
    )
    parser.add_argument(
        "--h264-share",
        type=float,
        default=0.0,
        help="share of the training compressions made as H.264 video frames "
        "(libx264) instead of JPEG, every class alike (default 0)",
    )
    parser.add_argument("--freeze-blocks", type=int, default=0)
    parser.add_argument(
        "--snapshots",
        type=float,
        nargs="*",
        default=(),
        help="also keep the weights at these shares of the budget (0.5 ...)",
    )
    parser.add_argument("--checkpoint-every", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=1234)
    parser.add_argument(
        "--arm",
        dest="arms",
        type=Arm.parse,
        action="append",
        default=[],
        metavar="NAME:LR[:FREEZE]",
        help="train this variant too, on the same samples, into OUT/NAME "
        "(repeat; replaces --learning-rate and --freeze-blocks)",
    )
    a = parser.parse_args(argv)
    seconds = a.seconds
    if a.deadline:  # the schedule is planned for what is left after start-up and compiling
        seconds = min(seconds, a.deadline - time.time() - 90)
    train_parallel(
        ParallelTrainConfig(
            pack=a.pack,
            out_dir=a.out,
            init_weights=a.init_weights,
            input_size=a.input_size,
            seconds=seconds,
            max_samples=a.max_samples,
            deadline=a.deadline,
            workers=a.workers,
            chunk=a.chunk,
            batch_size=a.batch_size,
            learning_rate=a.learning_rate,
            sbi_share=a.sbi_share,
            mask_source=a.mask_source,
            h264_share=a.h264_share,
            freeze_blocks=a.freeze_blocks,
            snapshots=tuple(a.snapshots),
            checkpoint_every_s=a.checkpoint_every,
            seed=a.seed,
            arms=tuple(a.arms),
        ),
        log=lambda m: print(m, flush=True),
    )
