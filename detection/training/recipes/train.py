"""Train a face classifier on labelled crops, calibrate it, and write weights + spec."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from detection.pipeline.spec import ModelSpec
from detection.training.data.labelled import load_faces
from detection.training.data.samples import make_samples
from detection.training.evaluation import metrics
from detection.training.evaluation.evaluate import evaluate_into_spec
from detection.training.recipes.architectures import build


@dataclass(frozen=True)
class TrainConfig:
    train_dir: Path
    val_dir: Path | None
    out_dir: Path
    name: str = "paper_cnn"
    version: str = "1"
    architecture: str = "paper_cnn"
    input_size: int = 64
    channels: int = 1
    face_margin: float = 0.6
    epochs: int = 10
    batch_size: int = 32
    learning_rate: float = 1e-3
    # Share of the training crops held out to fit calibration and pick the uncertain band,
    # so the validation set stays untouched for the reported figures.
    calibration_fraction: float = 0.1
    limit: int | None = None
    seed: int = 1234
    progress: bool = True


@dataclass
class TrainReport:
    spec: ModelSpec
    spec_path: Path
    weights_path: Path
    history: dict = field(default_factory=dict)


def _split(n: int, fraction: float, labels: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Stratified split: (train indices, held-out indices)."""
    rng = np.random.default_rng(seed)
    held = []
    for value in np.unique(labels):
        idx = np.flatnonzero(labels == value)
        rng.shuffle(idx)
        held.extend(idx[: max(1, int(round(len(idx) * fraction)))])
    held = np.array(sorted(held))
    keep = np.setdiff1d(np.arange(n), held)
    return keep, held


# Recorded in every pack: weights trained on a pack of another split cannot be calibrated here.
HELD_OUT_SPLIT = "by_file"


def split_by_key(keys: list[str], fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(kept indices, held-out indices), chosen by file: a face is held out when a hash of the
    seed and its file's path falls below `fraction`.

    A positional split moves when the pool changes (another detector, another rule for which
    face a picture is about, a face more or less found), and faces that earlier weights trained
    on would then land in the held-out set: their calibration and selection figures would be
    fitted on training faces. By file, a picture stays on its side of the split."""
    import hashlib

    if not len(keys):
        return np.array([], int), np.array([], int)
    u = np.array(
        [
            int.from_bytes(hashlib.sha256(f"{seed}:{key}".encode()).digest()[:8], "big") / 2.0**64
            for key in keys
        ]
    )
    held = np.flatnonzero(u < fraction)
    if not len(held) and len(keys) > 1:
        held = np.array([int(np.argmin(u))])  # tiny pools still get a held-out face
    return np.setdiff1d(np.arange(len(keys)), held), held


def split_by_list(keys: list[str], listing: Path, label: str) -> tuple[np.ndarray, np.ndarray]:
    """(kept indices, held-out indices): held out are the faces `listing` names under `label`.
    A listed face missing from the pool is an error: the listing was made for other faces."""
    import json

    listed = json.loads(Path(listing).read_text()).get(label, [])
    position = {key: i for i, key in enumerate(keys)}
    missing = [key for key in listed if key not in position]
    if missing:
        raise ValueError(
            f"{len(missing)} held-out {label} faces named in {Path(listing).name} are "
            f"not among the training faces (first: {missing[0]}): another data "
            "folder?"
        )
    held = np.array(sorted(position[key] for key in listed), dtype=int)
    return np.setdiff1d(np.arange(len(keys)), held), held


def uncertain_band(
    labels: np.ndarray, probabilities: np.ndarray, target_precision: float = 0.9
) -> tuple[float, float]:
    """The narrowest band around 0.5 outside which held-out decisions reach `target_precision`.

    Above `high` at least that share of videos called fake are fake; below `low` at least that
    share called real are real. Falls back to (0.35, 0.65) when the held-out set cannot say.
    """
    high, low = 0.65, 0.35
    for t in np.linspace(0.5, 0.95, 46):
        called = probabilities >= t
        if called.sum() >= 10 and labels[called].mean() >= target_precision:
            high = float(round(t, 3))
            break
    for t in np.linspace(0.5, 0.05, 46):
        called = probabilities < t
        if called.sum() >= 10 and (1 - labels[called]).mean() >= target_precision:
            low = float(round(t, 3))
            break
    return min(low, 0.5), max(high, 0.5)


def train_model(config: TrainConfig) -> TrainReport:
    import keras
    import tensorflow as tf
    from tqdm.keras import TqdmCallback

    keras.utils.set_random_seed(config.seed)
    faces = load_faces(
        config.train_dir,
        config.input_size,
        config.channels,
        limit=config.limit,
        progress=config.progress,
    )
    fit_idx, cal_idx = _split(
        len(faces.labels), config.calibration_fraction, faces.labels, config.seed
    )

    def augment(x, y):
        x = tf.image.random_flip_left_right(x)
        x = tf.clip_by_value(
            x * tf.random.uniform([], 0.8, 1.2) + tf.random.uniform([], -20, 20), 0.0, 255.0
        )
        return x, y

    train_ds = (
        tf.data.Dataset.from_tensor_slices((faces.images[fit_idx], faces.labels[fit_idx]))
        .shuffle(len(fit_idx), seed=config.seed)
        .map(augment, num_parallel_calls=tf.data.AUTOTUNE)
        .batch(config.batch_size)
        .prefetch(tf.data.AUTOTUNE)
    )
    cal_x, cal_y = faces.images[cal_idx], faces.labels[cal_idx]

    model = build(config.architecture, config.input_size, config.channels)
    model.compile(
        optimizer=keras.optimizers.Adam(config.learning_rate),
        loss="binary_crossentropy",
        metrics=[keras.metrics.AUC(name="auc")],
    )
    callbacks = [
        keras.callbacks.EarlyStopping(
            monitor="val_auc", mode="max", patience=3, restore_best_weights=True
        )
    ]
    if config.progress:
        callbacks.append(TqdmCallback(verbose=1))
    history = model.fit(
        train_ds,
        epochs=config.epochs,
        validation_data=(cal_x, cal_y),
        verbose=0,
        callbacks=callbacks,
    )

    cal_raw = model.predict(cal_x, batch_size=256, verbose=0).reshape(-1)
    a, b = metrics.fit_platt(cal_y, cal_raw)
    spec = ModelSpec(
        name=config.name,
        version=config.version,
        architecture=config.architecture,
        weights_file=f"{config.name}_v{config.version}.keras",
        input_size=config.input_size,
        channels=config.channels,
        face_margin=config.face_margin,
        calibration_a=a,
        calibration_b=b,
    )
    cal_prob = np.array([spec.calibrate(r) for r in cal_raw])
    low, high = uncertain_band(cal_y, cal_prob)
    spec = ModelSpec.from_dict(
        {
            **spec.to_dict(),
            "uncertain_low": low,
            "uncertain_high": high,
            "trained_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "metrics": {
                "training": {
                    "train_dir": str(config.train_dir),
                    "images_fit": int(len(fit_idx)),
                    "images_calibration": int(len(cal_idx)),
                    "epochs_run": len(history.history.get("loss", [])),
                    "epochs_max": config.epochs,
                    "batch_size": config.batch_size,
                    "learning_rate": config.learning_rate,
                    "seed": config.seed,
                },
                "calibration_split": metrics.summary(cal_y, cal_prob, spec.fake_threshold),
            },
        }
    )

    config.out_dir.mkdir(parents=True, exist_ok=True)
    weights_path = config.out_dir / spec.weights_file
    spec_path = config.out_dir / f"{config.name}_v{config.version}.json"
    # Save an uncompiled copy: the optimizer's state would triple the file and serves nothing.
    serving = build(config.architecture, config.input_size, config.channels)
    serving.set_weights(model.get_weights())
    serving.save(weights_path)
    spec.save(spec_path)
    return TrainReport(
        spec=spec,
        spec_path=spec_path,
        weights_path=weights_path,
        history={k: [float(v) for v in vs] for k, vs in history.history.items()},
    )


@dataclass(frozen=True)
class BlendTrainConfig:
    """A model that generalises: an ImageNet-initialised backbone trained on a dataset's real
    and fake crops plus self-blended fakes made from pools of real faces."""

    labelled_dirs: list[Path]  # folders with real/ and fake/ (e.g. OpenForensics train)
    real_pools: list[Path]  # folders of real faces only (UTKFace, RMFD, ...)
    val_dir: Path | None
    out_dir: Path
    init_weights: Path | None = None  # ported ImageNet weights (.npz), see port_efficientnet_lite0
    name: str = "lite0_sbi"
    version: str = "1"
    architecture: str = "efficientnet_lite0"
    input_size: int = 128
    face_margin: float = 0.3
    epochs: int = 4
    samples_per_epoch: int = 6000  # half real, half fake; fakes fresh each epoch
    sbi_share: float = 0.6  # share of the fakes that are self-blended (the rest from the dataset)
    # What shapes the training fakes' blending masks: BlazeFace's six keypoints, or the face
    # mesh's outline (samples.MASK_SOURCES). The held-out faces are always made with keypoint
    # masks, so runs with either source are chosen on the same samples.
    mask_source: str = "keypoints"
    freeze_blocks: int = 5  # the first blocks keep their ImageNet filters (and cost no backward)
    batch_size: int = 32
    learning_rate: float = 3e-4
    pool_limit: int | None = None
    calibration_fraction: float = 0.1
    seed: int = 1234
    progress: bool = True
    cache_dir: Path | None = None
    # How the version serves its scores (stored in its spec, applied to calibration too).
    test_time_flip: bool = False
    person_pooling: str = "mean_probability"
    # A JSON file {"real": [key, ...], "fake": [key, ...]} naming the faces to hold out instead
    # of the by-file split: the faces that earlier weights, continued here, never trained on
    # (keys as in FacePool.keys, "<root folder>/<path in it>").
    held_out_keys: Path | None = None


def _make_epoch(
    reals,
    real_kps,
    fakes,
    n: int,
    sbi_share: float,
    size: int,
    rng: np.random.Generator,
    mask_source: str = "keypoints",
) -> tuple[np.ndarray, np.ndarray]:
    x, y = make_samples(reals, real_kps, fakes, n, sbi_share, size, rng, mask_source)
    return x.astype(np.float32), y


@dataclass
class BlendData:
    """The faces of the self-blended recipe, split once: `*_fit` to train on, `*_cal` held out
    for calibration, early stopping and the uncertain band (never the validation sets)."""

    reals: np.ndarray
    real_kps: np.ndarray
    fakes: np.ndarray
    real_fit: np.ndarray
    real_cal: np.ndarray
    fake_fit: np.ndarray
    fake_cal: np.ndarray
    cal_x: np.ndarray
    cal_y: np.ndarray
    sources: dict = field(default_factory=dict)


def prepare_blend_data(config: BlendTrainConfig) -> BlendData:
    from detection.training.data.labelled import face_pool

    work = int(round(config.input_size * 1.25))  # blend at a higher resolution, then shrink
    labelled = face_pool(
        config.labelled_dirs,
        size=work,
        margin=config.face_margin,
        limit_per_root=config.pool_limit,
        progress=config.progress,
        cache_dir=config.cache_dir,
    )
    pools = (
        face_pool(
            config.real_pools,
            size=work,
            margin=config.face_margin,
            label=0,
            limit_per_root=config.pool_limit,
            progress=config.progress,
            cache_dir=config.cache_dir,
        )
        if config.real_pools
        else None
    )
    reals = labelled.images[labelled.labels == 0]
    real_kps = labelled.keypoints[labelled.labels == 0]
    real_keys = [k for k, y in zip(labelled.keys, labelled.labels) if y == 0]
    fake_keys = [k for k, y in zip(labelled.keys, labelled.labels) if y == 1]
    sources = {"labelled_real": int(len(reals)), "labelled_fake": int((labelled.labels == 1).sum())}
    if pools is not None:
        reals = np.concatenate([reals, pools.images])
        real_kps = np.concatenate([real_kps, pools.keypoints])
        real_keys += pools.keys
        for group in pools.groups:
            root = group.split("/")[0]
            sources[root] = sources.get(root, 0) + 1
    fakes = labelled.images[labelled.labels == 1]

    def split(keys: list[str], label: str) -> tuple[np.ndarray, np.ndarray]:
        if config.held_out_keys:
            return split_by_list(keys, config.held_out_keys, label)
        return split_by_key(keys, config.calibration_fraction, config.seed)

    real_fit, real_cal = split(real_keys, "real")
    fake_fit, fake_cal = split(fake_keys, "fake")
    cal_x, cal_y = _make_epoch(
        reals[real_cal],
        real_kps[real_cal],
        fakes[fake_cal],
        2 * len(real_cal),
        config.sbi_share,
        config.input_size,
        np.random.default_rng(config.seed + 1),
    )
    return BlendData(
        reals, real_kps, fakes, real_fit, real_cal, fake_fit, fake_cal, cal_x, cal_y, sources
    )


def train_blend_model(config: BlendTrainConfig) -> TrainReport:
    import keras
    from tqdm import trange

    from detection.training.evaluation.metrics import auc
    from detection.training.recipes.architectures import (
        build,
        freeze_first_blocks,
        load_lite0_imagenet,
    )

    keras.utils.set_random_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    data = prepare_blend_data(config)
    reals, real_kps, fakes = data.reals, data.real_kps, data.fakes
    cal_x, cal_y = data.cal_x, data.cal_y

    model = build(config.architecture, config.input_size, 3)
    if config.init_weights and Path(config.init_weights).suffix == ".keras":
        # Continue from an earlier run of this recipe (same architecture and input size).
        model.set_weights(keras.models.load_model(config.init_weights, compile=False).get_weights())
    elif config.init_weights:
        load_lite0_imagenet(model, config.init_weights)
    freeze_first_blocks(model, config.freeze_blocks)
    model.compile(optimizer=keras.optimizers.Adam(config.learning_rate), loss="binary_crossentropy")

    history: dict[str, list[float]] = {"loss": [], "val_auc": []}
    best_auc, best_weights = -1.0, None
    for _ in trange(config.epochs, desc="epochs", disable=not config.progress, unit="epoch"):
        x, y = _make_epoch(
            reals[data.real_fit],
            real_kps[data.real_fit],
            fakes[data.fake_fit],
            config.samples_per_epoch,
            config.sbi_share,
            config.input_size,
            rng,
            config.mask_source,
        )
        fit = model.fit(
            x, y, batch_size=config.batch_size, epochs=1, verbose=1 if config.progress else 0
        )
        history["loss"].append(float(fit.history["loss"][-1]))
        val_auc = auc(cal_y, model.predict(cal_x, batch_size=128, verbose=0).reshape(-1))
        history["val_auc"].append(float(val_auc))
        if val_auc > best_auc:
            best_auc, best_weights = val_auc, model.get_weights()
    model.set_weights(best_weights)
    training = {
        "init_weights": (
            f"continued from {Path(config.init_weights).name}"
            if config.init_weights and Path(config.init_weights).suffix == ".keras"
            else "ImageNet (EfficientNet-Lite0, ported)"
            if config.init_weights
            else "random"
        ),
        "images_fit": int(config.samples_per_epoch * len(history["loss"])),
        "frozen_blocks": config.freeze_blocks,
        "epochs_run": len(history["loss"]),
        "epochs_max": config.epochs,
        "batch_size": config.batch_size,
        "learning_rate": config.learning_rate,
        "history": history,
    }
    return finalise_blend_model(model, data, config, training)


def finalise_blend_model(
    model,
    data: BlendData,
    config: BlendTrainConfig,
    training: dict,
    shipped_weights: Path | None = None,
) -> TrainReport:
    """Calibrate a trained model on the held-out faces, choose its uncertain band, and write
    the serving weights and the spec. `training` says how the weights were made.

    `shipped_weights`: the weights are already a file in the model folder (another version's):
    the spec names that file instead of writing a 14 MB copy."""
    from detection.pipeline.classify import KerasFaceClassifier
    from detection.training.recipes.architectures import build

    cal_x, cal_y = data.cal_x, data.cal_y
    spec = ModelSpec(
        name=config.name,
        version=config.version,
        architecture=config.architecture,
        weights_file=(
            shipped_weights.name if shipped_weights else f"{config.name}_v{config.version}.keras"
        ),
        input_size=config.input_size,
        channels=3,
        face_margin=config.face_margin,
        test_time_flip=config.test_time_flip,
        person_pooling=config.person_pooling,
    )
    # Calibrated on the logits the version will serve (mirror view included, if it has one).
    cal_logits = KerasFaceClassifier.from_model(spec, model).logits_batch(cal_x)
    a, b = metrics.fit_platt_logits(cal_y, cal_logits)
    spec = replace(spec, calibration_a=a, calibration_b=b)
    cal_prob = np.array([spec.calibrate_logit(z) for z in cal_logits])
    low, high = uncertain_band(cal_y.astype(int), cal_prob)
    spec = ModelSpec.from_dict(
        {
            **spec.to_dict(),
            "uncertain_low": low,
            "uncertain_high": high,
            # Weights trained earlier (a new serving of shipped weights) keep their date.
            "trained_at": training.get("trained_at")
            or dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "metrics": {
                "training": {
                    "train_dir": ", ".join(map(str, config.labelled_dirs)),
                    "real_pools": [str(p) for p in config.real_pools],
                    "faces_per_source": data.sources,
                    "images_calibration": int(len(cal_y)),
                    "held_out_split": (
                        f"the faces listed in {Path(config.held_out_keys).name}"
                        if config.held_out_keys
                        else f"{config.calibration_fraction:.0%} of the faces, chosen by file (a hash of "
                        "the seed and the path)"
                    ),
                    "self_blended_share_of_fakes": config.sbi_share,
                    "blending_masks": config.mask_source,
                    "seed": config.seed,
                    **training,
                },
                "calibration_split": metrics.summary(
                    cal_y.astype(int), cal_prob, spec.fake_threshold
                ),
            },
        }
    )
    config.out_dir.mkdir(parents=True, exist_ok=True)
    weights_path = config.out_dir / spec.weights_file
    spec_path = config.out_dir / f"{config.name}_v{config.version}.json"
    if not shipped_weights:
        for layer in model.layers:
            layer.trainable = True
        serving = build(config.architecture, config.input_size, 3)
        serving.set_weights(model.get_weights())
        serving.save(weights_path)
    spec.save(spec_path)
    return TrainReport(
        spec=spec,
        spec_path=spec_path,
        weights_path=weights_path,
        history=training.get("history", {}),
    )


def finalise_trained(
    config: BlendTrainConfig, weights: Path, record: Path | None = None
) -> TrainReport:
    """Calibrate and write a model trained elsewhere (`parallel_train` on a pack of the same
    faces): the held-out faces are split off exactly as the pack was, so they stay unseen."""
    import json

    import keras

    if not Path(weights).is_file():
        raise FileNotFoundError(f"No such weights file: {weights}")
    training = json.loads(Path(record).read_text()) if record else {}
    pack = training.get("pack")
    if isinstance(pack, dict):
        if pack.get("held_out_split") != HELD_OUT_SPLIT:
            # Packs made before the split was by file held out other faces than this code
            # does: these weights trained on some of the faces it would calibrate them on.
            raise ValueError(
                f"{Path(weights).name} was trained on a pack whose held-out faces "
                "were chosen by position, not by file; calibrating it here would "
                "fit on faces it trained on. Make a new pack and train again."
            )
        # A pack that held out a listing's faces trained on the faces a by-file split (or
        # another listing) would calibrate on, and the other way round.
        packed = pack.get("held_out_keys")
        wanted = Path(config.held_out_keys).name if config.held_out_keys else None
        if packed != wanted:
            raise ValueError(
                f"{Path(weights).name} was trained on a pack that held out "
                f"{'the faces listed in ' + packed if packed else 'faces chosen by file'}; "
                f"finalise it with the same held-out faces "
                f"({'--held-out-keys ' + packed if packed else 'without --held-out-keys'})."
            )
    data = prepare_blend_data(config)
    model = keras.models.load_model(weights, compile=False)
    run = training.get("config") or {}  # parallel_train's trained.json: the run's settings
    lifted = {
        "batch_size": run.get("batch_size"),
        "learning_rate": run.get("learning_rate"),
        "frozen_blocks": run.get("freeze_blocks"),
        "init_weights": (
            f"continued from {Path(run['init_weights']).name}"
            if run.get("init_weights") not in (None, "None")
            else None
        ),
        "schedule": (
            "linear warm-up over {:.0%} of the time budget, then cosine to {:.0%} "
            "of the peak".format(run["warmup_fraction"], run["final_lr_fraction"])
            if "warmup_fraction" in run
            else None
        ),
    }
    training = {
        "weights_trained_elsewhere": Path(weights).name,
        **{k: v for k, v in lifted.items() if v is not None},
        **training,
    }
    in_place = Path(weights).resolve().parent == Path(config.out_dir).resolve()
    return finalise_blend_model(
        model, data, config, training, shipped_weights=Path(weights) if in_place else None
    )


def train_and_evaluate(
    config: TrainConfig, videos_dir: Path | None = None, cut_faces: bool = True
) -> TrainReport:
    """The labelled-crops recipe end to end: train, evaluate on held-out data, write the card."""
    report = train_model(config)
    report.spec = evaluate_into_spec(
        report.spec_path,
        val_dir=config.val_dir,
        videos_dir=videos_dir,
        progress=config.progress,
        cut_faces=cut_faces,
    )
    return report
