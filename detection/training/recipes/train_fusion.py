"""Train and measure the fused detector on extracted features, holding out whole sources.

    python -m detection.training train-fusion --features var/features/r1 --report var/fusion_r1.json \
        [--write detection/models/lite0_fusion_v1.json]

Branches (each a person-level mean logit):
- `blend`: the self-blended face-swap classifier (lite0_sbi), as served.
- `synthesis`: a class-balanced logistic regression on a frozen backbone's pooled features of
  size-normalised faces, trained on real generator outputs (OpenForensics and FF++ fakes, the
  generator clips) against real faces and camera footage.

The fusion is a class-balanced logistic regression on the people's branch scores and their
temporal cues (`fusion.person_inputs`). Every figure is out of source: a video's score comes
from branches and a fusion trained without its whole source (a generator's repository, an FF++
method, the FF++ reals), and each dataset is also held out whole (leave-one-dataset-out).
Candidates (feature set x regularisation x fusion inputs) are chosen by the mean of the
held-out figures over all three datasets, never by one dataset.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from detection.pipeline import fusion

from ..data.branch_features import load_features
from ..evaluation import metrics

FEATURE_SETS = ("feat", "feat_norm", "feat_imnet", "mid", "mid_imnet")
DATASETS = ("ffpp", "generators", "openforensics")


@dataclass
class Table:
    """Every face of every labelled video and crop set, one row per face."""

    feats: dict[str, np.ndarray]
    blend: np.ndarray
    label: np.ndarray
    video: np.ndarray  # video number, -1 for crop pictures
    person: np.ndarray
    dataset: np.ndarray
    group: np.ndarray
    split: np.ndarray  # "train" / "val" for crops, "video" for video faces
    face_px: np.ndarray
    timestamp: np.ndarray
    box: np.ndarray
    videos: list[dict]


def build_table(folder: str | Path) -> Table:
    videos, crop_sets = load_features(folder)
    videos = [v for v in videos if len(v.get("face_px", ())) and "feat" in v]
    cols: dict[str, list] = {
        k: []
        for k in (
            "blend",
            "label",
            "video",
            "person",
            "dataset",
            "group",
            "split",
            "face_px",
            "timestamp",
            "box",
        )
    }
    feats: dict[str, list] = {k: [] for k in FEATURE_SETS}
    for n, v in enumerate(videos):
        k = len(v["face_px"])
        for key in FEATURE_SETS:
            if key in v:
                feats[key].append(v[key])
        cols["blend"].append(v["blend_logit"])
        cols["label"].append(np.full(k, int(v["label"])))
        cols["video"].append(np.full(k, n))
        cols["person"].append(v["person"])
        cols["dataset"].append(np.full(k, v["dataset"], dtype=object))
        group = "real" if v["dataset"] == "ffpp" and int(v["label"]) == 0 else v["group"]
        cols["group"].append(np.full(k, f"{v['dataset']}:{group}", dtype=object))
        cols["split"].append(np.full(k, "video", dtype=object))
        cols["face_px"].append(v["face_px"])
        cols["timestamp"].append(v["timestamp"])
        cols["box"].append(v["box"])
    for c in crop_sets:
        k = len(c["labels"])
        for key in FEATURE_SETS:
            if key in c:
                feats[key].append(c[key])
        cols["blend"].append(c["blend_logit"])
        cols["label"].append(c["labels"].astype(int))
        cols["video"].append(np.full(k, -1))
        cols["person"].append(np.zeros(k, dtype=int))
        cols["dataset"].append(np.full(k, "openforensics", dtype=object))
        cols["group"].append(np.full(k, f"openforensics:{c['group']}", dtype=object))
        cols["split"].append(np.full(k, c["group"], dtype=object))
        cols["face_px"].append(c["face_px"])
        cols["timestamp"].append(np.zeros(k, dtype=np.float32))
        cols["box"].append(np.zeros((k, 4), dtype=np.float32))
    n_rows = sum(len(x) for x in cols["blend"])
    table_feats = {
        k: np.concatenate(v) for k, v in feats.items() if v and sum(len(x) for x in v) == n_rows
    }
    return Table(
        feats=table_feats, videos=videos, **{k: np.concatenate(v) for k, v in cols.items()}
    )


def source_weights(table: Table, rows: np.ndarray) -> np.ndarray:
    """Each dataset weighs the same in total, and within it reals and fakes weigh the same:
    thousands of OpenForensics crops do not drown 40 generator clips."""
    w = np.zeros(len(rows))
    ds, lab = table.dataset[rows], table.label[rows]
    cells = {(d, lab_): np.sum((ds == d) & (lab == lab_)) for d in set(ds) for lab_ in (0, 1)}
    for (d, lab_), count in cells.items():
        if count:
            w[(ds == d) & (lab == lab_)] = 1.0 / count
    return w * len(rows) / w.sum()


def _unstandardised(coef, intercept: float, mean, scale) -> tuple[tuple[float, ...], float]:
    """Weights and bias on raw features of a linear model fitted on standardised ones."""
    coef = np.asarray(coef, np.float64) / scale
    return tuple(float(v) for v in coef), float(intercept - np.dot(coef, mean))


def fit_branch(table: Table, rows: np.ndarray, key: str, alpha: float) -> fusion.LinearHead:
    """The synthesis branch: a weighted ridge regression of the label (+1 fake, -1 real) on
    standardised features, solved in closed form (a 1280 x 1280 system: a tenth of a second,
    where a logistic fit takes 10-20 s on two cores), folded into one weight vector and bias
    so it serves as a dot product. Its scale is arbitrary: the fusion calibrates it.
    `alpha` is the ridge penalty per unit of total weight."""
    x = table.feats[key][rows].astype(np.float64)
    w = source_weights(table, rows)
    y = np.where(table.label[rows] == 1, 1.0, -1.0)
    mean = np.average(x, axis=0, weights=w)
    scale = np.sqrt(np.average((x - mean) ** 2, axis=0, weights=w)) + 1e-6
    z = (x - mean) / scale
    gram = (z * w[:, None]).T @ z + alpha * w.sum() * np.eye(z.shape[1])
    coef = np.linalg.solve(gram, (z * w[:, None]).T @ (y - np.average(y, weights=w)))
    intercept = float(np.average(y, weights=w))
    return fusion.LinearHead(*_unstandardised(coef, intercept, mean, scale))


def person_rows(table: Table, synth: np.ndarray, videos: np.ndarray) -> list[dict]:
    """One row per person of each video: the branches' face logits, times and boxes, with the
    video's label, dataset and group."""
    out = []
    for v in videos:
        at = np.flatnonzero(table.video == v)
        info = table.videos[v]
        for p in np.unique(table.person[at]):
            rows = at[table.person[at] == p]
            out.append(
                {
                    "video": int(v),
                    "person": int(p),
                    "label": int(table.label[rows[0]]),
                    "dataset": table.dataset[rows[0]],
                    "group": table.group[rows[0]],
                    "faces": fusion.PersonFaces(
                        blend=table.blend[rows],
                        synthesis=synth[rows],
                        timestamps=table.timestamp[rows],
                        boxes=table.box[rows],
                        face_px=table.face_px[rows],
                        frame_side=float(min(info["width"], info["height"])),
                    ),
                }
            )
    return out


def fit_fusion(rows: list[dict], inputs: tuple[str, ...]) -> fusion.Fusion:
    x = np.array([fusion.person_inputs(r["faces"], inputs) for r in rows])
    y = np.array([r["label"] for r in rows])
    # Each video weighs the same whatever its number of people; classes balanced.
    per_video = {}
    for r in rows:
        per_video[r["video"]] = per_video.get(r["video"], 0) + 1
    w = np.array([1.0 / per_video[r["video"]] for r in rows]) * metrics.balanced_weights(y)
    scaler = StandardScaler().fit(x)
    model = LogisticRegression(C=1.0, max_iter=2000)
    model.fit(scaler.transform(x), y, sample_weight=w)
    weights, bias = _unstandardised(
        model.coef_[0], float(model.intercept_[0]), scaler.mean_, scaler.scale_
    )
    return fusion.Fusion(inputs=inputs, weights=weights, bias=bias)


def video_scores(rows: list[dict], fuse: fusion.Fusion) -> dict[int, float]:
    """Each video's fused probability: its most suspicious person counted for the video
    (the same rule the pipeline applies)."""
    by_video: dict[int, list] = {}
    for r in rows:
        by_video.setdefault(r["video"], []).append(r)
    out = {}
    for v, people in by_video.items():
        out[v] = max(
            fuse.probability(p["faces"])
            for p in fusion.counted(people, key=lambda p: len(p["faces"].blend))
        )
    return out


def _figures(labels, probs) -> dict:
    labels, probs = np.asarray(labels), np.asarray(probs)
    return {
        "n": int(len(labels)),
        "n_fake": int(labels.sum()),
        "auc": metrics.auc(labels, probs),
        "auc_ci95": metrics.auc_interval(labels, probs),
    }


def evaluate_matched_candidate(table: Table, key: str, c: float, inputs: tuple[str, ...]) -> dict:
    """Round 3: matched leave-one-source-out folds and leave-one-dataset-out, with the same
    printed fields as `evaluate_candidate` (the "loso" AUCs are the folds' means)."""
    matched = evaluate_matched(table, key, c, inputs)
    out = {
        "key": key,
        "alpha": c,
        "inputs": list(inputs),
        "matched": matched,
        "lodo": lodo(table, key, c, inputs),
        "loso": {d: {"fused": {"auc": matched[d]["mean_auc"]}} for d in ("ffpp", "generators")},
    }
    of_branch = "synthesis" if "synthesis" in inputs else "blend"
    out["selection_score"] = float(
        np.mean(
            [
                matched["ffpp"]["mean_auc"],
                matched["generators"]["mean_auc"],
                out["lodo"]["ffpp"]["fused"]["auc"],
                out["lodo"]["generators"]["fused"]["auc"],
                out["lodo"]["openforensics"][of_branch]["auc"],
            ]
        )
    )
    # The band and the shipped fusion use pooled out-of-source video scores (as rounds 1-2).
    pooled = evaluate_candidate(table, key, c, inputs, with_lodo=False)
    out["oof_video"] = pooled["oof_video"]
    return out


def evaluate_candidate(
    table: Table, key: str, c: float, inputs: tuple[str, ...], with_lodo: bool = True
) -> dict:
    """Out-of-source figures of one candidate: leave-one-source-out and leave-one-dataset-out,
    video level (FF++, generators) and frame level (OpenForensics val crops)."""
    video_rows = table.split == "video"
    train_crops = table.split == "train"
    val_crops = table.split == "val"
    groups = sorted(set(table.group[video_rows]))
    synth_oof = np.full(len(table.blend), np.nan)
    # Leave one source out: the branch never saw the held-out group.
    for g in groups:
        held = table.group == g
        head = fit_branch(table, np.flatnonzero((video_rows | train_crops) & ~held), key, c)
        synth_oof[held] = head.logits(table.feats[key][held])
    head_all = fit_branch(table, np.flatnonzero(video_rows | train_crops), key, c)
    synth_oof[val_crops] = head_all.logits(table.feats[key][val_crops])
    videos = np.unique(table.video[video_rows])
    people = person_rows(table, synth_oof, videos)
    fused_oof: dict[int, float] = {}
    for g in groups:
        train = [r for r in people if r["group"] != g]
        held = [r for r in people if r["group"] == g]
        fused_oof.update(video_scores(held, fit_fusion(train, inputs)))
    out = {"key": key, "alpha": c, "inputs": list(inputs), "loso": {}, "lodo": {}}
    for d in ("ffpp", "generators"):
        vids = [v for v in videos if table.videos[v]["dataset"] == d]
        labels = [int(table.videos[v]["label"]) for v in vids]
        out["loso"][d] = {
            "fused": _figures(labels, [fused_oof[v] for v in vids]),
            "synthesis": _figures(labels, [_video_branch(people, v, "synthesis") for v in vids]),
            "blend": _figures(labels, [_video_branch(people, v, "blend") for v in vids]),
            "by_group": _by_group(table, vids, fused_oof),
        }
    out["oof_video"] = {int(v): fused_oof[v] for v in videos}
    if not with_lodo:
        return out
    out["lodo"] = lodo(table, key, c, inputs)
    # The OpenForensics term: the frame AUC of the branch the fusion rests on.
    of_branch = "synthesis" if "synthesis" in inputs else "blend"
    out["selection_score"] = float(
        np.mean(
            [
                out["loso"]["ffpp"]["fused"]["auc"],
                out["loso"]["generators"]["fused"]["auc"],
                out["lodo"]["ffpp"]["fused"]["auc"],
                out["lodo"]["generators"]["fused"]["auc"],
                out["lodo"]["openforensics"][of_branch]["auc"],
            ]
        )
    )
    return out


def matched_folds(table: Table) -> list[tuple[str, np.ndarray]]:
    """Leave-one-source-out folds whose test set has both classes: each fake source with real
    videos of the same dataset, all held out of training together (round 3's protocol).
    - generator set: a repository's clips (its fakes and the reals it ships); a repository
      that ships no reals is paired with the reals of the next one that does, in turn;
    - FF++: a method (c23 and c40) with one of four equal parts of the FF++ reals.
    Returns (name, held-out video numbers)."""
    folds = []
    videos = np.unique(table.video[table.split == "video"])
    info = {v: table.videos[v] for v in videos}
    group = {v: table.group[table.video == v][0] for v in videos}
    for dataset in ("ffpp", "generators"):
        mine = [v for v in videos if info[v]["dataset"] == dataset]
        fake_groups = sorted({group[v] for v in mine if info[v]["label"] == 1})
        if dataset == "ffpp":
            reals = sorted(
                (v for v in mine if info[v]["label"] == 0), key=lambda v: info[v]["path"]
            )
            parts = [reals[i :: len(fake_groups)] for i in range(len(fake_groups))]
            for g, part in zip(fake_groups, parts, strict=True):
                held = [v for v in mine if group[v] == g] + list(part)
                folds.append((g, np.array(held)))
            continue
        real_groups = sorted({group[v] for v in mine if info[v]["label"] == 0})
        turn = 0
        for g in fake_groups:
            held = [v for v in mine if group[v] == g]
            if not any(info[v]["label"] == 0 for v in held):
                partner = real_groups[turn % len(real_groups)]
                turn += 1
                held += [v for v in mine if group[v] == partner and info[v]["label"] == 0]
            folds.append((g, np.array(held)))
    return folds


def _branch_and_fusion(
    table: Table,
    train_videos: np.ndarray,
    key: str,
    alpha: float,
    inputs: tuple[str, ...],
    inner: int = 3,
):
    """A synthesis head on the training videos and crops, and a fusion fitted on inner
    out-of-fold synthesis scores of those videos (grouped by source)."""
    train_crops = table.split == "train"
    in_train = np.isin(table.video, train_videos)
    head = fit_branch(table, np.flatnonzero(in_train | train_crops), key, alpha)
    groups = sorted({table.group[table.video == v][0] for v in train_videos})
    oof = np.full(len(table.blend), np.nan)
    for k in range(inner):
        held_groups = set(groups[k::inner])
        held = in_train & np.isin(table.group, list(held_groups))
        inner_head = fit_branch(table, np.flatnonzero((in_train & ~held) | train_crops), key, alpha)
        oof[held] = inner_head.logits(table.feats[key][held])
    people = person_rows(table, oof, train_videos)
    return head, fit_fusion(people, inputs)


def evaluate_matched(table: Table, key: str, alpha: float, inputs: tuple[str, ...]) -> dict:
    """Round 3's held-out figures: per matched fold, the AUC of a branch and fusion trained
    without the fold's videos; their mean per dataset."""
    videos = np.unique(table.video[table.split == "video"])
    out: dict = {"folds": {}}
    for name, held in matched_folds(table):
        train_videos = np.setdiff1d(videos, held)
        head, fuse = _branch_and_fusion(table, train_videos, key, alpha, inputs)
        synth = head.logits(table.feats[key])
        scores = video_scores(person_rows(table, synth, held), fuse)
        labels = [int(table.videos[v]["label"]) for v in held]
        out["folds"][name] = {
            "n": len(held),
            "n_fake": int(sum(labels)),
            "auc": metrics.auc(labels, [scores[v] for v in held]),
            "blend_auc": metrics.auc(
                labels,
                [
                    max(
                        float(np.mean(table.blend[(table.video == v) & (table.person == p)]))
                        for p in np.unique(table.person[table.video == v])
                    )
                    for v in held
                ],
            ),
        }
    for d in ("ffpp", "generators"):
        aucs = [f["auc"] for n, f in out["folds"].items() if n.startswith(d)]
        blend = [f["blend_auc"] for n, f in out["folds"].items() if n.startswith(d)]
        out[d] = {
            "mean_auc": float(np.mean(aucs)),
            "min_auc": float(np.min(aucs)),
            "blend_mean_auc": float(np.mean(blend)),
        }
    return out


def lodo(table: Table, key: str, c: float, inputs: tuple[str, ...]) -> dict:
    """Leave one dataset out: branch and fusion trained on the other two datasets only."""
    video_rows, train_crops = table.split == "video", table.split == "train"
    val_crops = table.split == "val"
    videos = np.unique(table.video[video_rows])
    out = {"lodo": {}}
    for d in DATASETS:
        keep = (video_rows | train_crops) & (table.dataset != d)
        head = fit_branch(table, np.flatnonzero(keep), key, c)
        synth = head.logits(table.feats[key])
        if d == "openforensics":
            lab = table.label[val_crops]
            out["lodo"][d] = {
                "synthesis": _figures(lab, synth[val_crops]),
                "blend": _figures(lab, table.blend[val_crops]),
            }
            continue
        all_people = person_rows(table, synth, videos)
        fuse = fit_fusion([r for r in all_people if r["dataset"] != d], inputs)
        vids = [v for v in videos if table.videos[v]["dataset"] == d]
        scores = video_scores([r for r in all_people if r["dataset"] == d], fuse)
        out["lodo"][d] = {
            "fused": _figures([table.videos[v]["label"] for v in vids], [scores[v] for v in vids])
        }
    return out["lodo"]


def _video_branch(people: list[dict], v: int, branch: str) -> float:
    rows = [p for p in people if p["video"] == v]
    return max(float(np.mean(getattr(p["faces"], branch))) for p in rows)


def _by_group(table: Table, vids, scores) -> dict:
    out = {}
    for g in sorted({table.videos[v]["group"] for v in vids}):
        sel = [v for v in vids if table.videos[v]["group"] == g]
        out[g] = {
            "n": len(sel),
            "n_fake": int(sum(table.videos[v]["label"] for v in sel)),
            "mean_p_fake": _mean([scores[v] for v in sel if table.videos[v]["label"]]),
            "mean_p_real": _mean([scores[v] for v in sel if not table.videos[v]["label"]]),
        }
    return out


def _mean(values):
    return float(np.mean(values)) if values else None


def choose_band(
    labels, probs, max_miss: float = 0.08, max_false: float = 0.10
) -> tuple[float, float]:
    """The uncertain band from out-of-source scores: `low` the highest cut that calls at
    most `max_miss` of the fakes real, `high` the lowest that calls at most `max_false` of
    the reals fake (never below `low`)."""
    labels, probs = np.asarray(labels), np.asarray(probs)
    fakes, reals = np.sort(probs[labels == 1]), np.sort(probs[labels == 0])
    k = int(np.floor(max_miss * len(fakes)))
    low = float(fakes[k]) if k < len(fakes) else 1.0
    j = int(np.ceil((1 - max_false) * len(reals)))
    high = float(reals[j - 1]) + 1e-6 if j >= 1 else 0.0
    return low, max(low, min(1.0, high))


def oof_synthesis(table: Table, key: str, alpha: float) -> np.ndarray:
    """Each video face's synthesis logit from a head trained without its source."""
    video_rows, train_crops = table.split == "video", table.split == "train"
    out = np.full(len(table.blend), np.nan)
    for g in sorted(set(table.group[video_rows])):
        held = table.group == g
        head = fit_branch(table, np.flatnonzero((video_rows | train_crops) & ~held), key, alpha)
        out[held] = head.logits(table.feats[key][held])
    return out


def _platt(z, y) -> dict:
    a, b = metrics.fit_platt_logits(np.asarray(y), np.asarray(z), balanced=True)
    return {"a": a, "b": b}


def fit_final(
    table: Table,
    key: str,
    alpha: float,
    inputs: tuple[str, ...],
    band: tuple[float, float],
    *,
    stretch_share: float = 0.05,
    outlier_quantile: float = 0.99,
    components: int = 16,
) -> dict:
    """The fusion section of the shipped version.

    - synthesis head: refitted on every video face and the training crops;
    - combiner and the branches' own calibrations: fitted on out-of-source branch scores
      (stacking), so they weigh the synthesis branch as it does on sources it never saw, not
      as it does on its own training data;
    - the confident-stretch threshold: the fused probability of a 3-face stretch that at most
      `stretch_share` of the real videos reach anywhere (out of source), never below the
      video band's top;
    - the outlier limit: the `outlier_quantile` of the training people's distances;
    - the quality floors: the smallest face and the lowest bits per pixel of the training
      videos, halved."""
    video_rows, train_crops = table.split == "video", table.split == "train"
    head = fit_branch(table, np.flatnonzero(video_rows | train_crops), key, alpha)
    oof = oof_synthesis(table, key, alpha)
    videos = np.unique(table.video[video_rows])
    people = person_rows(table, oof, videos)
    combiner = fit_fusion(people, inputs)
    labels = [r["label"] for r in people]
    branches = {
        "blend": _platt([r["faces"].blend.mean() for r in people], labels),
        "synthesis": _platt([r["faces"].synthesis.mean() for r in people], labels),
    }
    peaks = {}
    for r in people:
        if r["label"] == 0:
            z = max(
                combiner.probability(r["faces"].part(i, fusion.STRETCH))
                for i in range(max(1, len(r["faces"].blend) - fusion.STRETCH + 1))
            )
            peaks[r["video"]] = max(peaks.get(r["video"], 0.0), z)
    stretch = max(band[1], float(np.quantile(list(peaks.values()), 1 - stretch_share)))
    # Outliers: principal directions of the training people's mean features.
    means = np.array(
        [
            table.feats[key][(table.video == r["video"]) & (table.person == r["person"])].mean(
                axis=0
            )
            for r in people
        ],
        dtype=np.float64,
    )
    centre = means.mean(axis=0)
    _, sing, vt = np.linalg.svd(means - centre, full_matrices=False)
    k = min(components, len(sing))
    spread = sing[:k] / np.sqrt(max(1, len(means) - 1))
    proj = (means - centre) @ vt[:k].T / spread
    dist = np.sqrt(np.mean(proj**2, axis=1))
    bpp = [
        v["size_bytes"] * 8 / (v["width"] * v["height"] * v["fps"] * v["duration_s"])
        for v in table.videos
        if v.get("size_bytes") and v.get("fps")
    ]
    return {
        "synthesis": {"features": key, "weights": list(head.weights), "bias": head.bias},
        "combiner": {
            "inputs": list(inputs),
            "weights": list(combiner.weights),
            "bias": combiner.bias,
        },
        "branches": branches,
        "stretch_fake_from": min(1.0, stretch),
        "min_face_px": float(np.min(table.face_px[video_rows]) / 2),
        "min_bits_per_pixel": float(min(bpp) / 2) if bpp else 0.0,
        "outliers": {
            "mean": centre.tolist(),
            "components": vt[:k].tolist(),
            "spread": spread.tolist(),
            "limit": float(np.quantile(dist, outlier_quantile)),
        },
    }


def write_spec(
    table: Table, best: dict, base_path: Path, out: Path, name: str, version: str
) -> None:
    """The chosen candidate as a servable spec: the base version's weights (served by a
    conversion that also outputs the pooled features) with the fusion section and band."""
    from detection.pipeline.spec import ModelSpec

    if best["key"] not in ("feat", "feat_norm"):
        raise SystemExit(f"{best['key']} needs a second backbone, which no spec serves yet")
    base = ModelSpec.load(base_path)
    section = fit_final(
        table,
        best["key"],
        best["alpha"],
        tuple(best["inputs"]),
        (best["band"]["low"], best["band"]["high"]),
    )
    weights = base.weights_path(base_path)
    data = base.to_dict()
    data.update(
        name=name,
        version=version,
        weights_file=str(Path(weights).name),
        serving_file=f"{name}_v{version}.tflite",
        video_calibration_a=None,
        video_calibration_b=None,
        video_uncertain_low=best["band"]["low"],
        video_uncertain_high=best["band"]["high"],
        fusion=section,
        trained_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        notes=(
            f"{base.name} v{base.version}'s blending classifier fused with a synthesis "
            f"branch ({best['key']}, ridge alpha {best['alpha']}) by a combiner on "
            f"{', '.join(best['inputs'])}; python -m detection.training train-fusion"
        ),
    )
    from detection.pipeline.classify import file_sha256

    data["metrics"] = {
        **{k: v for k, v in base.metrics.items() if k == "frames"},
        "fusion_fit": {"n": len(best["oof_video"]), "what": "out-of-source video scores"},
        "held_out": {k: best[k] for k in ("loso", "lodo", "selection_score")},
        "band": best["band"],
    }
    data["serving"] = {
        "file": data["serving_file"],
        "output": "logit",
        "features": True,
        "keras_sha256": file_sha256(weights),
    }
    spec = ModelSpec.from_dict(data)
    spec.save(out)
    print(f"wrote {out}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--features", required=True)
    parser.add_argument("--report", required=True)
    parser.add_argument("--keys", default=",".join(FEATURE_SETS))
    parser.add_argument("--alpha", default="0.1,1")
    parser.add_argument("--inputs", default="blend,synthesis;" + ",".join(fusion.ALL_INPUTS))
    parser.add_argument(
        "--base",
        default="detection/models/lite0_sbi_v6.json",
        help="the blending branch's version, whose weights the fused one serves",
    )
    parser.add_argument("--write", help="write the chosen candidate as this fused spec")
    parser.add_argument(
        "--protocol",
        choices=("pooled", "matched"),
        default="pooled",
        help="leave-one-source-out figures: pooled out-of-source scores (rounds "
        "1-2) or matched folds with both classes (round 3)",
    )
    parser.add_argument("--name", default="lite0_fusion")
    parser.add_argument("--version", default="1")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    table = build_table(args.features)
    print(
        f"{len(table.blend)} faces, {len(table.videos)} videos, feature sets {sorted(table.feats)}",
        flush=True,
    )
    results = []
    for key in [k for k in args.keys.split(",") if k in table.feats]:
        for c in (float(v) for v in args.alpha.split(",")):
            for inputs in (tuple(s.split(",")) for s in args.inputs.split(";")):
                if "synthesis" not in inputs and any(
                    "synthesis" not in r["inputs"] for r in results
                ):
                    continue  # a fusion without the synthesis branch does not depend on it
                r = (
                    evaluate_candidate(table, key, c, inputs)
                    if args.protocol == "pooled"
                    else evaluate_matched_candidate(table, key, c, inputs)
                )
                results.append(r)
                print(
                    f"{key:10s} alpha={c:<6g} {'+'.join(inputs):60s} "
                    f"LOSO ffpp {r['loso']['ffpp']['fused']['auc']:.3f} "
                    f"gen {r['loso']['generators']['fused']['auc']:.3f} | "
                    f"LODO ffpp {r['lodo']['ffpp']['fused']['auc']:.3f} "
                    f"gen {r['lodo']['generators']['fused']['auc']:.3f} "
                    f"OF {r['lodo']['openforensics']['synthesis']['auc']:.3f}"
                    f"/{r['lodo']['openforensics']['blend']['auc']:.3f} | "
                    f"score {r['selection_score']:.3f}  ({time.perf_counter() - started:.0f} s)",
                    flush=True,
                )
    best = max(results, key=lambda r: r["selection_score"])
    labels = [int(table.videos[v]["label"]) for v in best["oof_video"]]
    probs = list(best["oof_video"].values())
    low, high = choose_band(labels, probs)
    best["band"] = {"low": low, "high": high, **metrics.band_rates(labels, probs, low, high)}
    Path(args.report).write_text(
        json.dumps({"candidates": results, "chosen": best}, indent=1, default=float)
    )
    if args.write:
        write_spec(table, best, Path(args.base), Path(args.write), args.name, args.version)
    print(
        f"chosen: {best['key']} alpha={best['alpha']} inputs={best['inputs']} band {low:.3f}-{high:.3f}"
        f" {best['band']}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
