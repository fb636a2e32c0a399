"""Aggregate stage: per-face scores -> frames and people -> one video probability and verdict."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from .fusion import STRETCH, FusionSpec, PersonFaces
from .spec import ModelSpec, sigmoid
from .types import (
    VERDICT_FAKE,
    VERDICT_NO_FACE,
    VERDICT_REAL,
    VERDICT_UNCERTAIN,
    FaceCrop,
    FaceScore,
    FrameOutcome,
    PersonOutcome,
    Reason,
    SampledFrame,
    Segment,
    VideoInfo,
)

# A person must be seen in at least this share of the frames that had a face (and in at least
# two frames) to decide the video's score; shorter tracks are mostly detector false positives.
MIN_PERSON_SHARE = 0.2


def frame_outcomes(
    frames: list[SampledFrame],
    crops: list[FaceCrop],
    logits: np.ndarray,
    spec: ModelSpec,
    people: list[int] | None = None,
) -> tuple[FrameOutcome, ...]:
    """Each face's logit (the classifier's output) as raw score and calibrated probability."""
    people = people if people is not None else [0] * len(crops)
    by_frame: dict[int, list[FaceScore]] = {f.index: [] for f in frames}
    for crop, z, person in zip(crops, logits, people, strict=True):
        by_frame[crop.frame_index].append(
            FaceScore(
                frame_index=crop.frame_index,
                timestamp_s=crop.timestamp_s,
                box=crop.box,
                raw_score=sigmoid(float(z)),
                fake_probability=spec.calibrate_logit(float(z)),
                crop=crop.image,
                person=person,
                logit=float(z),
            )
        )
    return tuple(
        FrameOutcome(index=f.index, timestamp_s=f.timestamp_s, faces=tuple(by_frame[f.index]))
        for f in frames
    )


def pooled_logit(faces: list[FaceScore]) -> float:
    """A person's evidence: the mean of their faces' logits."""
    return float(np.mean([f.logit for f in faces]))


def pooled_probability(faces: list[FaceScore], spec: ModelSpec) -> float:
    """One person's probability from their faces, as the model version says to pool them
    (with the version's video calibration where it has one)."""
    if spec.person_pooling == "mean_logit":
        return spec.calibrate_person_logit(pooled_logit(faces))
    return float(np.mean([f.fake_probability for f in faces]))


def person_outcomes(
    outcomes: tuple[FrameOutcome, ...], spec: ModelSpec
) -> tuple[PersonOutcome, ...]:
    faces_by_person: dict[int, list[FaceScore]] = {}
    for outcome in outcomes:
        for face in outcome.faces:
            faces_by_person.setdefault(face.person, []).append(face)
    frames_with_face = sum(1 for o in outcomes if o.faces)
    min_frames = max(2, int(np.ceil(MIN_PERSON_SHARE * frames_with_face)))
    persons = [
        PersonOutcome(
            index=index,
            fake_probability=pooled_probability(faces, spec),
            logit=pooled_logit(faces),
            frames_seen=len({f.frame_index for f in faces}),
            representative=max(faces, key=lambda f: f.box.area),
            counts_for_video=len({f.frame_index for f in faces}) >= min_frames,
        )
        for index, faces in sorted(faces_by_person.items())
    ]
    if persons and not any(p.counts_for_video for p in persons):
        # Nobody was seen for long (a very short clip): then everyone counts.
        persons = [replace(p, counts_for_video=True) for p in persons]
    return tuple(persons)


def video_probability(persons: tuple[PersonOutcome, ...]) -> float | None:
    """The most suspicious person's probability: one fake face is not diluted by a real
    bystander. None when no face was found: "no face" is a verdict, not a score of 0.5."""
    counted = [p.fake_probability for p in persons if p.counts_for_video]
    return max(counted) if counted else None


def video_logit(persons: tuple[PersonOutcome, ...]) -> float | None:
    """The pooled logit of the person who decides the video (the one `video_probability`
    follows: every calibration is increasing), None when no face was found. What a video
    calibration is fitted on."""
    counted = [p for p in persons if p.counts_for_video]
    return max(counted, key=lambda p: (p.fake_probability, p.logit)).logit if counted else None


def video_verdict(probability: float | None, spec: ModelSpec) -> str:
    if probability is None:
        return VERDICT_NO_FACE
    return spec.video_verdict_for(probability)


# --- fused versions: two branches, a combiner, stretches and reasons ------------------------


def fused_frame_outcomes(
    frames: list[SampledFrame],
    crops: list[FaceCrop],
    scores: np.ndarray,
    fusion: FusionSpec,
    people: list[int],
) -> tuple[FrameOutcome, ...]:
    """Each face with both branches' logits; its probability is the combiner's on that face
    alone (what the per-frame chart draws)."""
    by_frame: dict[int, list[FaceScore]] = {f.index: [] for f in frames}
    for crop, row, person in zip(crops, scores, people, strict=True):
        blend, synth = float(row[0]), float(row[1])
        one = _person_faces([(crop, blend, synth)])
        by_frame[crop.frame_index].append(
            FaceScore(
                frame_index=crop.frame_index,
                timestamp_s=crop.timestamp_s,
                box=crop.box,
                raw_score=sigmoid(blend),
                fake_probability=fusion.combiner.probability(one),
                crop=crop.image,
                person=person,
                logit=blend,
                synthesis_logit=synth,
            )
        )
    return tuple(
        FrameOutcome(index=f.index, timestamp_s=f.timestamp_s, faces=tuple(by_frame[f.index]))
        for f in frames
    )


def _person_faces(items: list[tuple[FaceCrop, float, float]]) -> PersonFaces:
    boxes = np.array([[c.box.x, c.box.y, c.box.w, c.box.h] for c, _, _ in items], np.float64)
    return PersonFaces(
        blend=np.array([b for _, b, _ in items]),
        synthesis=np.array([s for _, _, s in items]),
        timestamps=np.array([c.timestamp_s for c, _, _ in items]),
        boxes=boxes,
        face_px=np.sqrt(boxes[:, 2] * boxes[:, 3]),
        frame_side=0.0,
    )


def fake_segments(faces: PersonFaces, fusion: FusionSpec, trim_from: float) -> tuple[Segment, ...]:
    """Time ranges where stretches of `STRETCH` consecutive faces reach the version's
    confident-fake probability: overlapping stretches merged, each range trimmed to its first
    and last face that looks fake on its own (probability from `trim_from`)."""
    n = len(faces.blend)
    length = min(STRETCH, n)
    alone = [fusion.combiner.probability(faces.part(i, 1)) for i in range(n)]
    spans: list[list] = []  # [first face, last face, probability]
    for start in range(0, n - length + 1):
        p = fusion.combiner.probability(faces.part(start, length))
        if p < fusion.stretch_fake_from:
            continue
        if spans and start <= spans[-1][1]:
            spans[-1][1], spans[-1][2] = start + length - 1, max(spans[-1][2], p)
        else:
            spans.append([start, start + length - 1, p])
    out = []
    for first, last, p in spans:
        inside = [i for i in range(first, last + 1) if alone[i] >= trim_from] or [first, last]
        out.append(
            Segment(
                round(float(faces.timestamps[inside[0]]), 3),
                round(float(faces.timestamps[inside[-1]]), 3),
                float(p),
            )
        )
    return tuple(out)


def fused_person_outcomes(
    crops: list[FaceCrop],
    scores: np.ndarray,
    people: list[int],
    outcomes: tuple[FrameOutcome, ...],
    spec: ModelSpec,
) -> tuple[PersonOutcome, ...]:
    """People scored by the combiner on their faces' two branches, with each branch's own
    probability, the inputs' shares, their fake stretches and their face size."""
    fusion = spec.fusion_spec
    items: dict[int, list] = {}
    feats: dict[int, list] = {}
    for crop, row, person in zip(crops, scores, people, strict=True):
        items.setdefault(person, []).append((crop, float(row[0]), float(row[1])))
        feats.setdefault(person, []).append(row[2:])
    faces_of: dict[int, list[FaceScore]] = {}
    for outcome in outcomes:
        for face in outcome.faces:
            faces_of.setdefault(face.person, []).append(face)
    frames_with_face = sum(1 for o in outcomes if o.faces)
    min_frames = max(2, int(np.ceil(MIN_PERSON_SHARE * frames_with_face)))
    persons = []
    for index, person_items in sorted(items.items()):
        person_items.sort(key=lambda t: t[0].frame_index)
        faces = _person_faces(person_items)
        fused = fusion.combiner.probability(faces)
        evidence = {
            "blend": {
                "logit": float(faces.blend.mean()),
                "probability": fusion.branches["blend"].probability(faces.blend.mean()),
            },
            "synthesis": {
                "logit": float(faces.synthesis.mean()),
                "probability": fusion.branches["synthesis"].probability(faces.synthesis.mean()),
            },
            "fused": {"logit": fusion.combiner.logit(faces), "probability": fused},
            "contributions": fusion.combiner.contributions(faces),
        }
        if fusion.outliers is not None:
            evidence["outlier_distance"] = fusion.outliers.distance(
                np.mean(np.asarray(feats[index], np.float64), axis=0)
            )
        seen = len({c.frame_index for c, _, _ in person_items})
        persons.append(
            PersonOutcome(
                index=index,
                fake_probability=fused,
                logit=float(faces.blend.mean()),
                frames_seen=seen,
                representative=max(faces_of[index], key=lambda f: f.box.area),
                counts_for_video=seen >= min_frames,
                branches=evidence,
                segments=fake_segments(faces, fusion, spec.video_band[1]),
                face_px=float(np.median(faces.face_px)),
            )
        )
    if persons and not any(p.counts_for_video for p in persons):
        persons = [replace(p, counts_for_video=True) for p in persons]
    return tuple(persons)


def _time(s: float) -> str:
    return f"{int(s // 60):02d}:{s % 60:04.1f}"


def fused_verdict(
    probability: float | None,
    persons: tuple[PersonOutcome, ...],
    info: VideoInfo,
    spec: ModelSpec,
    fusion: FusionSpec,
) -> tuple[str, tuple[Reason, ...]]:
    """The video band's verdict, then two rules on top:
    - input unlike the training data (faces too small to judge, heavier compression than any
      training video, faces far from every training source) makes the verdict uncertain;
    - a confident fake stretch or a brief person who looks fake keeps the video from being
      cleared: a real verdict becomes uncertain, so it reaches a moderator."""
    verdict = video_verdict(probability, spec)
    if probability is None:
        return verdict, ()
    reasons: list[Reason] = []
    counted = [p for p in persons if p.counts_for_video]
    decider = max(counted, key=lambda p: p.fake_probability)
    if decider.face_px is not None and decider.face_px < fusion.min_face_px:
        reasons.append(
            Reason(
                "small_faces",
                (
                    f"The faces the verdict rests on are {decider.face_px:.0f} px across; below "
                    f"{fusion.min_face_px:.0f} px this model cannot judge them."
                ),
            )
        )
    bpp = info.bits_per_pixel
    if bpp is not None and bpp < fusion.min_bits_per_pixel:
        reasons.append(
            Reason(
                "heavy_compression",
                (
                    f"The video is coded at {bpp:.4f} bits per pixel, more compressed than any video "
                    f"the model was trained or calibrated on (from {fusion.min_bits_per_pixel:.4f})."
                ),
            )
        )
    distance = decider.branches.get("outlier_distance")
    if fusion.outliers is not None and distance is not None and distance > fusion.outliers.limit:
        reasons.append(
            Reason(
                "unfamiliar_source",
                (
                    f"The faces look unlike every source the model was trained on (distance "
                    f"{distance:.1f}, where 99% of training people are under "
                    f"{fusion.outliers.limit:.1f})."
                ),
            )
        )
    if reasons:
        verdict = VERDICT_UNCERTAIN
    low, high = spec.video_band
    # Stretches and brief people are reasons where the video as a whole would not be called
    # fake (a fake video's segments are shown with its people all the same).
    for p in persons if video_verdict(probability, spec) != VERDICT_FAKE else ():
        for seg in p.segments:
            if p.counts_for_video:
                reasons.append(
                    Reason(
                        "fake_stretch",
                        (
                            f"Person {p.index + 1} looks manipulated from {_time(seg.start_s)} to "
                            f"{_time(seg.end_s)} (p = {seg.probability:.2f})."
                        ),
                    )
                )
            else:
                reasons.append(
                    Reason(
                        "brief_fake_person",
                        (
                            f"Person {p.index + 1}, seen in {p.frames_seen} frames only, looks "
                            f"manipulated from {_time(seg.start_s)} to {_time(seg.end_s)} "
                            f"(p = {seg.probability:.2f})."
                        ),
                    )
                )
        if not p.counts_for_video and not p.segments and p.fake_probability >= high:
            reasons.append(
                Reason(
                    "brief_fake_person",
                    (
                        f"Person {p.index + 1}, seen in {p.frames_seen} frames only, looks "
                        f"manipulated (p = {p.fake_probability:.2f})."
                    ),
                )
            )
    if verdict == VERDICT_REAL and any(
        r.code in ("fake_stretch", "brief_fake_person") for r in reasons
    ):
        verdict = VERDICT_UNCERTAIN
    return verdict, tuple(reasons)
