"""The shipped fused version: each branch and the fusion load and score offline."""

from pathlib import Path

import numpy as np
import pytest

from detection.pipeline.analyse import Analyser
from detection.pipeline.classify import KerasFaceClassifier, make_classifier, preprocess
from detection.pipeline.fusion import BranchScorer, face_side, normalise_face
from detection.pipeline.spec import ModelSpec
from detection.training.export.conversion import TOLERANCE
from tests.media import cut_face, face_clip

MODELS = Path(__file__).resolve().parents[2] / "detection" / "models"
FUSED = MODELS / "lite0_fusion_v1.json"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def spec():
    return ModelSpec.load(FUSED)


@pytest.fixture(scope="module")
def served(spec):
    return make_classifier(spec, spec.weights_path(FUSED))


def test_the_fused_version_serves_both_branches_from_one_litert_file(spec, served):
    assert type(served).__name__ == "LiteRTFaceClassifier"
    crop, _ = cut_face(200)
    scores = BranchScorer(served, spec.fusion_spec).logits([crop])
    assert scores.shape == (1, 2 + len(spec.fusion_spec.synthesis.weights))
    assert np.isfinite(scores).all()


def test_the_blending_branch_is_the_blending_versions_classifier(spec, served):
    # lite0_sbi v6 (retired: its LiteRT file is archived) served these Keras weights; the fused
    # file's first output is their logit, within the tolerance every conversion is held to.
    blend_spec = ModelSpec.load(MODELS / "lite0_sbi_v6.json")
    blend = make_classifier(
        blend_spec, blend_spec.weights_path(MODELS / "lite0_sbi_v6.json"), prefer="keras"
    )
    crop, _ = cut_face(200)
    fused = BranchScorer(served, spec.fusion_spec).logits([crop])
    assert fused[0, 0] == pytest.approx(blend.logits([crop])[0], abs=TOLERANCE)


def test_the_litert_features_match_the_keras_models(spec, served):
    keras_model = KerasFaceClassifier(spec, spec.weights_path(FUSED))
    crop, _ = cut_face(200)
    batch = preprocess(
        [normalise_face(crop, face_side(crop, spec.face_margin))], spec.input_size, spec.channels
    )
    assert np.abs(served.features_batch(batch) - keras_model.features_batch(batch)).max() < 1e-4


def test_a_video_gets_fused_people_with_every_branch_scored(spec, served, tmp_path):
    result = Analyser(spec, served).analyse(face_clip(tmp_path / "face.mp4"))
    assert result.persons
    person = result.persons[0]
    assert set(person.branches) >= {"blend", "synthesis", "fused", "contributions"}
    assert 0.0 <= person.branches["fused"]["probability"] <= 1.0
    assert result.fake_probability == pytest.approx(
        max(p.fake_probability for p in result.persons if p.counts_for_video)
    )
    assert result.verdict in {"real", "fake", "uncertain"}
    assert all(r.code for r in result.reasons)
