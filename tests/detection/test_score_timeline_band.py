"""The per-frame chart draws the band it is given, says which with its numbers, and labels the
threshold line with its number."""

from detection.charts import Point, face_band_caption, score_timeline_svg

POINTS = [Point(0.0, 0.2), Point(1.0, 0.7), Point(2.0, None)]


def test_it_names_the_band_it_draws_with_its_numbers():
    svg = score_timeline_svg(
        POINTS, duration_s=2.0, band=(0.35, 0.65), caption=face_band_caption((0.35, 0.65))
    )
    assert "<title>face band 0.35–0.65 (frame scores)</title>" in svg
    assert 'class="label band-caption" text-anchor="end">face band 0.35–0.65 (frame scores)' in svg
    assert 'aria-label="Fake probability per sampled frame; face band 0.35–0.65' in svg


def test_without_a_caption_it_still_writes_the_numbers():
    svg = score_timeline_svg(POINTS, duration_s=2.0, band=(0.4270239393211166, 0.673))
    assert "uncertain band 0.427–0.673" in svg


def test_a_threshold_line_carries_its_number_and_none_is_drawn_without_one():
    with_line = score_timeline_svg(POINTS, duration_s=2.0, band=(0.35, 0.65), fake_threshold=0.5)
    assert 'class="threshold"><title>threshold 0.5</title>' in with_line
    assert 'class="label">threshold 0.5</text>' in with_line
    without = score_timeline_svg(POINTS, duration_s=2.0, band=(0.35, 0.65))
    assert 'class="threshold"' not in without
