"""How a model's video verdicts hold up when the clips are re-encoded, as sites re-encode uploads.

A clip reaches a newsroom after one or more platforms have shrunk and recompressed it. A
detector that reads compression artefacts as manipulation, or loses the blending traces it looks
for once they are compressed away, shows it here. Every labelled video is re-encoded into each
variant (H.264 through PyAV's bundled FFmpeg; audio dropped, the analysis never reads it), and the
variants are analysed exactly as the originals are:

- `crf32`: the same size, encoded once more at H.264 CRF 32: a second generation of
  compression (on clips that were already coded coarsely, like FF++'s c40, the file need not
  get smaller; the artefacts of both generations add up);
- `480p`: scaled to 480 lines, CRF 23 (a typical mobile or embed rendition);
- `360p_crf30`: scaled to 360 lines, CRF 30 (a low-bandwidth rendition).

Per variant: the video AUC with its bootstrap interval, the paired difference from the originals
(the same clips on both sides, so the interval says whether the change is more than the draw of
clips), and what the version's video band does with them (fakes called real, reals called fake,
uncertain). Nothing is tuned on these figures; they are reported.

`python -m detection.training robustness --model SPEC --data DIR [--work DIR] [--write]`
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from detection.pipeline.spec import ModelSpec
from detection.training.data.labelled import VIDEO_SUFFIXES, labelled_files
from detection.training.evaluation import metrics


@dataclass(frozen=True)
class Variant:
    name: str
    height: int | None  # lines after scaling; None keeps the size
    crf: int
    label: str


VARIANTS = {
    v.name: v
    for v in (
        Variant("crf32", None, 32, "same size, encoded again at H.264 CRF 32"),
        Variant("480p", 480, 23, "480 lines, H.264 CRF 23"),
        Variant("360p_crf30", 360, 30, "360 lines, H.264 CRF 30"),
    )
}


def _even(value: float) -> int:
    return max(2, int(round(value / 2)) * 2)  # 4:2:0 video needs even sides


def reencode(src: Path, dst: Path, variant: Variant) -> Path:
    """`src`'s video stream re-encoded as `variant` into `dst` (an .mp4), at the source's
    frame rate and timestamps. Never scales a clip up."""
    import av

    dst.parent.mkdir(parents=True, exist_ok=True)
    partial = dst.with_name(dst.name + ".part.mp4")
    with av.open(str(src)) as inp, av.open(str(partial), "w") as out:
        source = inp.streams.video[0]
        source.thread_type = "AUTO"
        width, height = source.codec_context.width, source.codec_context.height
        if variant.height and variant.height < height:
            width, height = _even(width * variant.height / height), _even(variant.height)
        else:
            width, height = _even(width), _even(height)
        rate = source.average_rate or source.guessed_rate or 25
        stream = out.add_stream("libx264", rate=rate)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.time_base = source.time_base
        stream.options = {"crf": str(variant.crf), "preset": "veryfast"}
        for frame in inp.decode(source):
            scaled = frame.reformat(width=width, height=height, format="yuv420p")
            scaled.pts, scaled.time_base = frame.pts, frame.time_base
            for packet in stream.encode(scaled):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    partial.replace(dst)  # a half-written variant never passes for a finished one
    return dst


def variant_tree(folder: Path, work: Path, variant: Variant, progress: bool = True) -> Path:
    """Every labelled video under `folder` re-encoded as `variant` under `work/<name>/`, in the
    same relative paths (so labels, methods and compressions read the same); kept between runs."""
    from tqdm import tqdm

    root = work / variant.name
    for path, _, _ in tqdm(
        labelled_files(folder, VIDEO_SUFFIXES),
        desc=variant.name,
        disable=not progress,
        unit="video",
    ):
        dst = (root / path.relative_to(folder)).with_suffix(".mp4")
        if not dst.is_file():
            try:
                reencode(path, dst, variant)
            except Exception:  # an unreadable original stays unreadable: analysed as one
                dst.with_name(dst.name + ".part.mp4").unlink(missing_ok=True)
    return root


def _key(row: dict, root: Path) -> str:
    return str(Path(row["path"]).relative_to(root).with_suffix(""))


def _summary(labels: np.ndarray, probabilities: np.ndarray, spec: ModelSpec) -> dict:
    return {
        "auc": metrics.auc(labels, probabilities),
        "auc_ci95": metrics.auc_interval(labels, probabilities),
        "ece": metrics.expected_calibration_error(labels, probabilities),
        **metrics.band_rates(labels, probabilities, *spec.video_band),
    }


def compare_variants(
    spec: ModelSpec,
    folder: Path,
    original: list[dict],
    variants: dict[str, tuple[Path, list[dict]]],
) -> dict:
    """Figures per variant on the clips every variant could score (no face or unreadable in
    any one of them: left out everywhere, and counted), each against the originals."""
    by_variant = {"original": {_key(r, folder): r for r in original}}
    for name, (root, rows) in variants.items():
        by_variant[name] = {_key(r, root): r for r in rows}
    shared = sorted(
        set.intersection(
            *(
                {k for k, r in rows.items() if r.get("fake_probability") is not None}
                for rows in by_variant.values()
            )
        )
    )
    labels = np.array([by_variant["original"][k]["label"] for k in shared])
    reference = np.array([by_variant["original"][k]["fake_probability"] for k in shared])
    out = {
        "clips": len(shared),
        "left_out": len(by_variant["original"]) - len(shared),
        "variants": {},
    }
    for name, rows in by_variant.items():
        probabilities = np.array([rows[k]["fake_probability"] for k in shared])
        figures = _summary(labels, probabilities, spec)
        figures["unscored"] = sum(1 for r in rows.values() if r.get("fake_probability") is None)
        if name != "original":
            figures["label"] = VARIANTS[name].label
            figures["auc_difference"] = metrics.auc_difference(labels, probabilities, reference)
            figures["median_probability_change"] = float(np.median(probabilities - reference))
        out["variants"][name] = figures
    return out


def evaluate(analyser, folder: Path, work: Path, names: list[str], progress: bool = True) -> dict:
    from detection.training.evaluation.evaluate import analyse_videos

    original = analyse_videos(analyser, folder, progress=progress)
    variants = {}
    for name in names:
        root = variant_tree(folder, work, VARIANTS[name], progress=progress)
        variants[name] = (root, analyse_videos(analyser, root, progress=progress))
    return compare_variants(analyser.spec, folder, original, variants)


def _describe(report: dict) -> str:
    lines = [
        f"{report['clips']} clips scored in every variant ({report['left_out']} left out)",
        f"{'variant':<12} {'AUC':>6} {'vs original':>22} {'fakes->real':>12} "
        f"{'reals->fake':>12} {'uncertain':>10}",
    ]
    for name, f in report["variants"].items():
        d = f.get("auc_difference")
        diff = f"{d['difference']:+.3f} ({d['ci95'][0]:+.3f}..{d['ci95'][1]:+.3f})" if d else ""
        lines.append(
            f"{name:<12} {f['auc']:>6.3f} {diff:>22} {f['fakes_called_real']:>12.0%} "
            f"{f['reals_called_fake']:>12.0%} {f['uncertain_rate']:>10.0%}"
        )
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, required=True, help="the version's .json spec")
    parser.add_argument(
        "--data", type=Path, required=True, help="labelled videos (real/ and fake/ in their paths)"
    )
    parser.add_argument(
        "--work",
        type=Path,
        default=Path("var/robustness"),
        help="where the re-encoded variants are kept (default var/robustness)",
    )
    parser.add_argument("--variants", nargs="+", choices=sorted(VARIANTS), default=list(VARIANTS))
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument(
        "--write", action="store_true", help="store the figures in the spec and re-render its card"
    )
    args = parser.parse_args(argv)

    from detection.training.evaluation.evaluate import load_analyser

    report = {
        "dir": str(args.data),
        **evaluate(load_analyser(args.model), args.data, args.work, args.variants),
    }
    print(_describe(report))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    if args.write:
        from dataclasses import replace

        from detection.training.report.model_card import write_card

        spec = ModelSpec.load(args.model)
        spec = replace(spec, metrics={**spec.metrics, "robustness": report})
        spec.save(args.model)
        print(f"updated {args.model} and {write_card(spec, args.model)}")
    return 0
