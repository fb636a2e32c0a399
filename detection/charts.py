"""Server-side SVG charts (no JavaScript library, no CDN)."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe


@dataclass(frozen=True)
class Point:
    t: float
    p: float | None


def p_text(p: float) -> str:
    """A probability as legends write it: at most three decimals, no trailing zeros."""
    return f"{p:.3f}".rstrip("0").rstrip(".")


def band_text(band: tuple[float, float]) -> str:
    """A band (low, high) as legends write it, e.g. "0.427–0.669"."""
    low, high = band
    return f"{p_text(low)}–{p_text(high)}"


def face_band_caption(band: tuple[float, float]) -> str:
    """The per-frame chart's caption: frame scores are read against the face band."""
    return f"face band {band_text(band)} (frame scores)"


def score_timeline_svg(
    points: list[Point],
    *,
    duration_s: float,
    band: tuple[float, float],
    caption: str | None = None,
    fake_threshold: float | None = None,
    width: int = 720,
    height: int = 180,
    persons: list[tuple[str, list[Point]]] = (),
    segments: list[tuple[str, float, float, float]] = (),
) -> SafeString:
    """Per-frame fake probability over time, with a band (low, high) and, if given, a line at
    `fake_threshold`.

    A frame's score is its most suspicious face's, so callers pass the version's face band;
    `caption` names the band with its numbers (default "uncertain band 0.35–0.65") and is written
    in the chart, as is the threshold's number.

    Frames in which no face was found are drawn as grey ticks on the axis, not as scores.
    Each frame's point is focusable (a keyboard user tabs to it and seeks with Enter); the
    persons' points at the same times are for the mouse only, so a time is one tab stop.
    `persons` adds one line per tracked person (label, points), each with its own class.
    `segments` (label, start s, end s, probability) shades the time ranges where a person looks
    confidently fake; each can be focused and clicked to seek the video to its start.
    """
    left, right, top, bottom = 40, 10, 10, 25
    plot_w, plot_h = width - left - right, height - top - bottom
    span = max(duration_s, max((pt.t for pt in points), default=0.0), 1e-6)

    def x(t: float) -> float:
        return left + plot_w * t / span

    def y(p: float) -> float:
        return top + plot_h * (1.0 - p)

    low, high = band
    caption = caption or f"uncertain band {band_text(band)}"
    scored = [pt for pt in points if pt.p is not None]
    parts = [
        format_html(
            '<rect x="{}" y="{}" width="{}" height="{}" class="band"><title>{}</title></rect>'
            '<text x="{}" y="{}" class="label band-caption" text-anchor="end">{}</text>',
            left,
            round(y(high), 1),
            plot_w,
            round(y(low) - y(high), 1),
            caption,
            left + plot_w - 4,
            top + 9,
            caption,
        ),
    ]
    if fake_threshold is not None:
        parts.append(
            format_html(
                '<line x1="{}" x2="{}" y1="{}" y2="{}" class="threshold"><title>threshold {}'
                '</title></line><text x="{}" y="{}" class="label">threshold {}</text>',
                left,
                left + plot_w,
                round(y(fake_threshold), 1),
                round(y(fake_threshold), 1),
                p_text(fake_threshold),
                left + 4,
                round(y(fake_threshold) - 3, 1),
                p_text(fake_threshold),
            )
        )
    parts += [
        format_html(
            '<line x1="{}" x2="{}" y1="{}" y2="{}" class="axis"/>',
            left,
            left + plot_w,
            top + plot_h,
            top + plot_h,
        ),
        format_html(
            '<line x1="{}" x2="{}" y1="{}" y2="{}" class="axis"/>', left, left, top, top + plot_h
        ),
    ]
    parts.append(
        format_html_join(
            "",
            '<rect x="{}" y="{}" width="{}" height="{}" class="segment" tabindex="0" '
            'data-t="{}"><title>{}: looks manipulated {}–{} s (p {})</title></rect>',
            (
                (
                    round(x(start), 1),
                    top,
                    max(3.0, round(x(end) - x(start), 1)),
                    plot_h,
                    start,
                    label,
                    f"{start:.1f}",
                    f"{end:.1f}",
                    f"{p:.2f}",
                )
                for label, start, end, p in segments
            ),
        )
    )
    for p in (0.0, 0.5, 1.0):
        parts.append(
            format_html(
                '<text x="{}" y="{}" class="label" text-anchor="end">{}</text>',
                left - 4,
                round(y(p) + 4, 1),
                f"{p:.1f}",
            )
        )
    parts.append(
        format_html(
            '<text x="{}" y="{}" class="label" text-anchor="end">{} s</text>',
            left + plot_w,
            height - 6,
            f"{span:.1f}",
        )
    )
    parts.append(format_html('<text x="{}" y="{}" class="label">0 s</text>', left, height - 6))
    if len(scored) > 1:
        path = " ".join(f"{x(pt.t):.1f},{y(pt.p):.1f}" for pt in scored)
        parts.append(format_html('<polyline points="{}" class="line"/>', path))
    for n, (label, person_points) in enumerate(persons):
        shown = [pt for pt in person_points if pt.p is not None]
        if len(shown) > 1:
            path = " ".join(f"{x(pt.t):.1f},{y(pt.p):.1f}" for pt in shown)
            parts.append(
                format_html('<polyline points="{}" class="person-line person-{}"/>', path, n % 6)
            )
        parts.append(
            format_html_join(
                "",
                '<circle cx="{}" cy="{}" r="2.5" class="point person-point person-{}" '
                'data-t="{}"><title>{}, {} s: p(fake) {}</title></circle>',
                (
                    (round(x(pt.t), 1), round(y(pt.p), 1), n % 6, pt.t, label, pt.t, f"{pt.p:.3f}")
                    for pt in shown
                ),
            )
        )
    parts.append(
        format_html_join(
            "",
            '<circle cx="{}" cy="{}" r="3.5" class="point" data-t="{}" tabindex="0" '
            'role="button" aria-label="Seek to {} s (p(fake) {})"><title>{} s: p(fake) '
            "{}</title></circle>",
            (
                (
                    round(x(pt.t), 1),
                    round(y(pt.p), 1),
                    pt.t,
                    pt.t,
                    f"{pt.p:.3f}",
                    pt.t,
                    f"{pt.p:.3f}",
                )
                for pt in scored
            ),
        )
    )
    parts.append(
        format_html_join(
            "",
            '<line x1="{}" x2="{}" y1="{}" y2="{}" class="noface"><title>{} s: no face'
            "</title></line>",
            (
                (round(x(pt.t), 1), round(x(pt.t), 1), top + plot_h - 6, top + plot_h, pt.t)
                for pt in points
                if pt.p is None
            ),
        )
    )
    body = mark_safe("".join(str(part) for part in parts))  # every piece escaped above
    return format_html(
        '<svg class="timeline" viewBox="0 0 {} {}" role="img" aria-label="Fake '
        'probability per sampled frame; {}">{}</svg>',
        width,
        height,
        caption,
        body,
    )
