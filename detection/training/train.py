"""Train a face classifier on labelled crops, calibrate it, and write weights + spec."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from detection.pipeline.spec import ModelSpec

from . import metrics
from .architectures import build
from .data import load_faces


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


def _uncertain_band(labels: np.ndarray, probabilities: np.ndarray,
                    target_precision: float = 0.9) -> tuple[float, float]:
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
    faces = load_faces(config.train_dir, config.input_size, config.channels, limit=config.limit,
                       progress=config.progress)
    fit_idx, cal_idx = _split(len(faces.labels), config.calibration_fraction, faces.labels,
                              config.seed)

    def augment(x, y):
        x = tf.image.random_flip_left_right(x)
        x = tf.clip_by_value(x * tf.random.uniform([], 0.8, 1.2) + tf.random.uniform([], -20, 20),
                             0.0, 255.0)
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
    model.compile(optimizer=keras.optimizers.Adam(config.learning_rate),
                  loss="binary_crossentropy", metrics=[keras.metrics.AUC(name="auc")])
    callbacks = [keras.callbacks.EarlyStopping(monitor="val_auc", mode="max", patience=3,
                                               restore_best_weights=True)]
    if config.progress:
        callbacks.append(TqdmCallback(verbose=1))
    history = model.fit(train_ds, epochs=config.epochs, validation_data=(cal_x, cal_y),
                        verbose=0, callbacks=callbacks)

    cal_raw = model.predict(cal_x, batch_size=256, verbose=0).reshape(-1)
    a, b = metrics.fit_platt(cal_y, cal_raw)
    spec = ModelSpec(name=config.name, version=config.version, architecture=config.architecture,
                     weights_file=f"{config.name}_v{config.version}.keras",
                     input_size=config.input_size, channels=config.channels,
                     face_margin=config.face_margin, calibration_a=a, calibration_b=b)
    cal_prob = np.array([spec.calibrate(r) for r in cal_raw])
    low, high = _uncertain_band(cal_y, cal_prob)
    spec = ModelSpec.from_dict({
        **spec.to_dict(),
        "uncertain_low": low,
        "uncertain_high": high,
        "trained_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
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
    })

    config.out_dir.mkdir(parents=True, exist_ok=True)
    weights_path = config.out_dir / spec.weights_file
    spec_path = config.out_dir / f"{config.name}_v{config.version}.json"
    # Save an uncompiled copy: the optimizer's state would triple the file and serves nothing.
    serving = build(config.architecture, config.input_size, config.channels)
    serving.set_weights(model.get_weights())
    serving.save(weights_path)
    spec.save(spec_path)
    return TrainReport(spec=spec, spec_path=spec_path, weights_path=weights_path,
                       history={k: [float(v) for v in vs] for k, vs in history.history.items()})
