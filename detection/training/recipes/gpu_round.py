"""One prepared accelerator round for the larger blending model, within a 15-minute lease.

The project never needs an accelerator; when a session is lent one, this is the whole round:

    # 1. here, once (the datasets stay here; the pack holds only training faces):
    .venv/bin/python -m detection.training gpu-round prepare --data ../shared/data \
        --out var/gpu            # var/gpu/pack.npz + init.keras, checked under the 64 MiB carry
    # 2. on the device (one `run`, carry var/gpu; Keras 3 and a backend installed there):
    KERAS_BACKEND=jax python -m detection.training gpu-round train --gpu-dir var/gpu \
        --out "$OUT" --minutes 9
    # 3. back here: the weights came back in parts of at most 15 MiB; join and check them
    .venv/bin/python -m detection.training gpu-round join --parts FILES_AT/arm0 \
        --out var/gpu/arm0.keras

`train` continues the shipped blending weights at a larger input (192 px by default) on fresh
self-blended samples for a fixed budget, in two arms that differ only in learning rate
(`parallel_train`), writes a checkpoint every minute (a cut-off run still leaves weights), and
splits each arm's final weights into parts of at most `PART_BYTES` with a manifest holding
their SHA-256, since a device returns files of at most 16 MiB. The joined weights then go
through `train_detector --trained-weights` for calibration and a card, like any other run.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path

# Parts stay under the device's 16 MiB per returned file, with room for the manifest.
PART_BYTES = 15 * 1024 * 1024
# What travels to the device (tracked files plus carried paths) must stay under 64 MiB.
CARRY_LIMIT = 60 * 1024 * 1024


def split_file(path: Path, out_dir: Path, part_bytes: int = PART_BYTES) -> dict:
    """`path` as numbered parts in `out_dir` plus `manifest.json` (sizes and SHA-256)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    data = Path(path).read_bytes()
    parts = []
    for n, start in enumerate(range(0, max(1, len(data)), part_bytes)):
        chunk = data[start : start + part_bytes]
        name = f"{Path(path).name}.part{n:02d}"
        (out_dir / name).write_bytes(chunk)
        parts.append(
            {"file": name, "bytes": len(chunk), "sha256": hashlib.sha256(chunk).hexdigest()}
        )
    manifest = {
        "file": Path(path).name,
        "bytes": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "parts": parts,
    }
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=1))
    return manifest


def join_parts(parts_dir: Path, out: Path) -> Path:
    """The file `split_file` cut into `parts_dir`, checked part by part and whole."""
    manifest = json.loads((Path(parts_dir) / "manifest.json").read_text())
    data = bytearray()
    for part in manifest["parts"]:
        chunk = (Path(parts_dir) / part["file"]).read_bytes()
        if hashlib.sha256(chunk).hexdigest() != part["sha256"]:
            raise ValueError(f"{part['file']} is damaged (SHA-256 differs from the manifest)")
        data += chunk
    if hashlib.sha256(data).hexdigest() != manifest["sha256"]:
        raise ValueError(f"the joined {manifest['file']} differs from the manifest")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(bytes(data))
    return out


def carry_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in Path(folder).rglob("*") if p.is_file())


def prepare(data: Path, out: Path, init: Path, cache_dir: Path | None = None) -> dict:
    """Pack the training faces and the starting weights into `out` for the device."""
    import shutil

    from . import pack

    out.mkdir(parents=True, exist_ok=True)
    argv = ["--data", str(data), "--out", str(out / "pack.npz")]
    if cache_dir is not None:
        argv += ["--cache-dir", str(cache_dir)]
    pack.main(argv)
    shutil.copyfile(init, out / "init.keras")
    size = carry_size(out)
    if size > CARRY_LIMIT:
        raise SystemExit(
            f"{out} holds {size / 2**20:.1f} MiB; the device takes at most "
            f"{CARRY_LIMIT / 2**20:.0f} MiB with the working tree"
        )
    return {"bytes": size}


def train(
    gpu_dir: Path, out: Path, minutes: float, input_size: int, workers: int, batch_size: int
) -> dict:
    """The device's part: two arms for `minutes` of training, each arm's weights split."""
    from .parallel_train import Arm, ParallelTrainConfig, train_parallel

    run_dir = Path("/tmp/gpu_round")
    config = ParallelTrainConfig(
        pack=gpu_dir / "pack.npz",
        out_dir=run_dir,
        init_weights=gpu_dir / "init.keras",
        input_size=input_size,
        seconds=minutes * 60,
        workers=workers,
        batch_size=batch_size,
        checkpoint_every_s=60.0,
        arms=(Arm.parse("lr3e-4:3e-4"), Arm.parse("lr1e-4:1e-4")),
        deadline=time.time() + minutes * 60 + 150,
    )
    record = train_parallel(config)
    manifests = {}
    for n, arm_dir in enumerate(sorted(p for p in run_dir.iterdir() if p.is_dir())):
        weights = arm_dir / "trained.keras"
        if not weights.is_file():
            weights = arm_dir / "checkpoint.keras"
        if weights.is_file():
            manifests[arm_dir.name] = split_file(weights, out / f"arm{n}")
            (out / f"arm{n}" / "record.json").write_text(
                json.dumps({"arm": arm_dir.name, "record": record}, indent=1, default=str)
            )
    return manifests


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("prepare")
    p.add_argument("--data", type=Path, required=True)
    p.add_argument("--out", type=Path, default=Path("var/gpu"))
    p.add_argument("--init", type=Path, default=Path("detection/models/lite0_sbi_v5.keras"))
    p.add_argument("--cache-dir", type=Path)
    t = sub.add_parser("train")
    t.add_argument("--gpu-dir", type=Path, default=Path("var/gpu"))
    t.add_argument("--out", type=Path, required=True)
    t.add_argument("--minutes", type=float, default=9.0)
    t.add_argument("--input-size", type=int, default=192)
    t.add_argument("--workers", type=int, default=14)
    t.add_argument("--batch-size", type=int, default=256)
    j = sub.add_parser("join")
    j.add_argument("--parts", type=Path, required=True)
    j.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    if args.command == "prepare":
        print(json.dumps(prepare(args.data, args.out, args.init, args.cache_dir)))
    elif args.command == "train":
        print(
            json.dumps(
                train(
                    args.gpu_dir,
                    args.out,
                    args.minutes,
                    args.input_size,
                    args.workers,
                    args.batch_size,
                ),
                default=str,
            )[:2000]
        )
    else:
        print(join_parts(args.parts, args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
