"""The accelerator round's weights come back in parts under the device's file limit."""

import json

import pytest

from detection.training.recipes.gpu_round import join_parts, split_file


def test_a_file_is_split_under_the_limit_and_joined_back_identical(tmp_path):
    original = tmp_path / "trained.keras"
    original.write_bytes(bytes(range(256)) * 1000)  # 256,000 bytes
    manifest = split_file(original, tmp_path / "parts", part_bytes=100_000)
    assert [p["bytes"] for p in manifest["parts"]] == [100_000, 100_000, 56_000]
    assert all(
        (tmp_path / "parts" / p["file"]).stat().st_size <= 100_000 for p in manifest["parts"]
    )
    joined = join_parts(tmp_path / "parts", tmp_path / "back.keras")
    assert joined.read_bytes() == original.read_bytes()


def test_a_damaged_part_is_refused(tmp_path):
    original = tmp_path / "trained.keras"
    original.write_bytes(b"x" * 250)
    manifest = split_file(original, tmp_path / "parts", part_bytes=100)
    damaged = tmp_path / "parts" / manifest["parts"][1]["file"]
    damaged.write_bytes(b"y" * 100)
    with pytest.raises(ValueError, match="damaged"):
        join_parts(tmp_path / "parts", tmp_path / "back.keras")
    assert not (tmp_path / "back.keras").exists()
    assert json.loads((tmp_path / "parts" / "manifest.json").read_text())["bytes"] == 250
