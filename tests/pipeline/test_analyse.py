"""The whole pipeline on generated clips, with the model shipped in the repository."""

import ast
from pathlib import Path

import pytest

from detection.pipeline import PipelineError

PIPELINE_DIR = Path(__file__).resolve().parents[2] / "detection" / "pipeline"


def test_it_analyses_a_clip_with_a_face(clips, shipped_analyser):
    result = shipped_analyser.analyse(clips["face"])
    assert result.verdict in {"fake", "real", "uncertain"}
    assert 0.0 <= result.fake_probability <= 1.0
    assert result.frames_sampled == 32
    assert result.frames_with_face >= 28  # the face is in every frame; Haar may miss a few
    scored = [f for f in result.frames if f.faces]
    assert all(0.0 <= f.fake_probability <= 1.0 for f in scored)
    assert set(result.timings) == {
        "decode",
        "faces",
        "people",
        "model",
        "after_decode",
        "aggregate",
    }
    assert scored[0].faces[0].crop.ndim == 3


def test_it_gives_the_no_face_verdict_without_a_score(clips, shipped_analyser):
    result = shipped_analyser.analyse(clips["no_face"])
    assert result.verdict == "no_face"
    assert result.fake_probability is None
    assert result.frames_sampled == 24 and result.frames_with_face == 0


@pytest.mark.parametrize("name", ["not_video", "empty", "truncated"])
def test_it_raises_a_typed_error_for_bad_input(clips, shipped_analyser, name):
    with pytest.raises(PipelineError) as info:
        shipped_analyser.analyse(clips[name])
    assert str(info.value)  # a message a person can read


def test_the_pipeline_package_never_imports_django():
    for path in PIPELINE_DIR.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            assert not any(n.split(".")[0] == "django" for n in names), path.name
