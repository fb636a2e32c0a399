"""The model card template renders the shipped cards as they are committed."""

from pathlib import Path

import pytest

from detection.pipeline.spec import ModelSpec
from detection.training.report.model_card import render, write_card

MODELS = Path(__file__).resolve().parents[2] / "detection" / "models"


@pytest.mark.parametrize("name", ["lite0_sbi_v3", "lite0_sbi_v4", "lite0_sbi_v5", "lite0_sbi_v6"])
def test_the_template_renders_the_committed_card(name):
    spec = ModelSpec.load(MODELS / f"{name}.json")
    assert render(spec, card_dir=MODELS) == (MODELS / f"{name}.md").read_text()


def test_a_card_is_written_beside_its_spec_without_links_to_missing_images(tmp_path):
    spec_path = tmp_path / "lite0_sbi_v6.json"
    spec_path.write_text((MODELS / "lite0_sbi_v6.json").read_text())
    card = write_card(ModelSpec.load(spec_path), spec_path)
    assert card == tmp_path / "lite0_sbi_v6.md"
    text = card.read_text()
    assert text.startswith("# Model card: lite0_sbi v6\n")
    assert "![" not in text  # the PNGs are not beside this copy
    assert "## Video calibration" in text and "## Robustness to re-encoding" in text
