"""The pipeline finds and scores faces while the video decodes: same result as the stages
run one after another, with the worker's LiteRT classifier and BlazeFace."""

import dataclasses

import pytest
from django.conf import settings

from detection.pipeline import Analyser, AnalysisConfig
from detection.pipeline.analyse import analyse_video_sequential
from detection.pipeline.classify import make_classifier
from detection.pipeline.spec import ModelSpec


@pytest.fixture(scope="module")
def litert_analyser():
    spec_path = settings.DETECTION_DEFAULT_MODEL_SPEC
    spec = ModelSpec.load(spec_path)
    return Analyser(
        spec,
        make_classifier(spec, spec.weights_path(spec_path), prefer="litert"),
        config=AnalysisConfig(),
    )


def _faces(result):
    return [(f.index, face.box, round(face.logit, 5)) for f in result.frames for face in f.faces]


def test_overlapped_and_sequential_analyses_agree(clips, litert_analyser):
    overlapped = litert_analyser.analyse(clips["face"])
    sequential = analyse_video_sequential(clips["face"], litert_analyser)
    assert overlapped.faces_scored == sequential.faces_scored > 0
    assert _faces(overlapped) == _faces(sequential)
    assert overlapped.fake_probability == pytest.approx(sequential.fake_probability, abs=1e-6)
    assert [p.frames_seen for p in overlapped.persons] == [
        p.frames_seen for p in sequential.persons
    ]
    assert {"decode", "faces", "people", "model", "after_decode", "aggregate"} == set(
        overlapped.timings
    )


def test_the_helper_scores_on_one_thread_with_its_own_interpreters(litert_analyser):
    detector, classifier = litert_analyser.helper_stages()
    assert classifier is not litert_analyser.classifier and classifier.num_threads == 1
    assert detector is not litert_analyser.detector
    assert litert_analyser.helper_stages() == (detector, classifier)  # made once


def test_overlap_can_be_switched_off(clips, litert_analyser):
    off = dataclasses.replace(litert_analyser.config, overlap_stages=False)
    analyser = Analyser(
        litert_analyser.spec, litert_analyser.classifier, litert_analyser.detector, config=off
    )
    result = analyser.analyse(clips["face"])
    assert "after_decode" not in result.timings
    assert result.fake_probability == pytest.approx(
        litert_analyser.analyse(clips["face"]).fake_probability, abs=1e-6
    )
