"""The measurement behind the short-range boxes' mapping runs on any folder of face pictures."""

import cv2

from detection.training.evaluation.short_range_boxes import main, measure
from tests import media


def test_it_measures_the_two_models_boxes_on_the_same_faces(tmp_path, capsys):
    face = media.face_image()
    for i, side in enumerate((240, 320, 480)):
        cv2.imwrite(str(tmp_path / f"face_{i}.jpg"), cv2.resize(face, (side, side)))
    (tmp_path / "notes.txt").write_text("not a picture")
    found = measure(sorted(tmp_path.glob("*.jpg")))
    assert found["faces"] == 3
    # The same face, drawn by two models: boxes of a similar size, centres within a fifth.
    assert 0.7 < found["width_ratio"] < 1.4 and 0.7 < found["height_ratio"] < 1.4
    assert abs(found["centre_shift_x"]) < 0.2 and abs(found["centre_shift_y"]) < 0.2
    assert main([str(tmp_path)]) == 0
    assert "faces 3" in capsys.readouterr().out
