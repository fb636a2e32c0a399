"""Server-side SVG charts for the moderator dashboard (no JavaScript, no CDN)."""

from __future__ import annotations

from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from .models import ReviewState

SERIES = [
    (ReviewState.CONFIRMED_FAKE, "confirmed fake", "bar-fake"),
    (ReviewState.OVERTURNED_REAL, "judged real", "bar-real"),
    (ReviewState.ESCALATED, "escalated", "bar-esc"),
]


def _svg(width: int, height: int, label: str, parts: list) -> SafeString:
    body = mark_safe("".join(str(p) for p in parts))  # every piece escaped by format_html
    return format_html(
        '<svg class="chart" viewBox="0 0 {} {}" role="img" aria-label="{}">{}</svg>',
        width,
        height,
        label,
        body,
    )


def decisions_per_day_svg(per_day: list[dict], width: int = 720, height: int = 210) -> SafeString:
    """Stacked bars: human decisions per day, by outcome."""
    left, right, top, bottom = 34, 10, 10, 46
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max([sum(d[s] for s, _, _ in SERIES) for d in per_day] + [1])
    slot = plot_w / max(len(per_day), 1)
    parts = [
        format_html(
            '<line x1="{}" x2="{}" y1="{}" y2="{}" class="axis"/>',
            left,
            left + plot_w,
            top + plot_h,
            top + plot_h,
        ),
        format_html(
            '<text x="{}" y="{}" class="label" text-anchor="end">{}</text>', left - 4, top + 8, peak
        ),
        format_html(
            '<text x="{}" y="{}" class="label" text-anchor="end">0</text>', left - 4, top + plot_h
        ),
    ]
    for i, day in enumerate(per_day):
        x = left + i * slot + slot * 0.15
        base = top + plot_h
        for state, name, css in SERIES:
            n = day[state]
            if not n:
                continue
            h = plot_h * n / peak
            base -= h
            parts.append(
                format_html(
                    '<rect x="{}" y="{}" width="{}" height="{}" class="{}"><title>{}: {} {}</title>'
                    "</rect>",
                    round(x, 1),
                    round(base, 1),
                    round(slot * 0.7, 1),
                    round(h, 1),
                    css,
                    day["day"].isoformat(),
                    n,
                    name,
                )
            )
        if i % 2 == 0 or len(per_day) <= 7:
            parts.append(
                format_html(
                    '<text x="{}" y="{}" class="label" text-anchor="middle">{}</text>',
                    round(x + slot * 0.35, 1),
                    height - 28,
                    day["day"].strftime("%m-%d"),
                )
            )
    for n, (_, name, css) in enumerate(SERIES):
        parts.append(
            format_html(
                '<rect x="{}" y="{}" width="10" height="10" class="{}"/>'
                '<text x="{}" y="{}" class="label">{}</text>',
                left + n * 130,
                height - 14,
                css,
                left + n * 130 + 14,
                height - 5,
                name,
            )
        )
    return _svg(width, height, "Decisions per day", parts)


def agreement_svg(rows: list, width: int = 720, row_h: int = 70) -> SafeString:
    """Horizontal bars per model version: precision, recall and overturn rate (0..1), each
    version labelled with the video band its calls were read against and its uncertain count."""
    left, right, top = 290, 60, 10
    height = top + row_h * max(len(rows), 1) + 10
    plot_w = width - left - right
    metrics = [
        ("precision", "precision", "bar-prec"),
        ("recall", "recall", "bar-rec"),
        ("overturn_rate", "overturn rate", "bar-over"),
    ]
    parts = []
    for i, row in enumerate(rows):
        y0 = top + i * row_h
        parts.append(
            format_html('<text x="4" y="{}" class="label strong">{}</text>', y0 + 14, row.version)
        )
        parts.append(
            format_html('<text x="4" y="{}" class="label">{}</text>', y0 + 30, row.band_text)
        )
        parts.append(
            format_html(
                '<text x="4" y="{}" class="label">{} decided, {} uncertain</text>',
                y0 + 46,
                row.decided,
                row.uncertain,
            )
        )
        for j, (attr, name, css) in enumerate(metrics):
            value = getattr(row, attr)
            y = y0 + j * 20
            parts.append(
                format_html(
                    '<text x="{}" y="{}" class="label" text-anchor="end">{}</text>',
                    left - 6,
                    y + 13,
                    name,
                )
            )
            if value is None:
                parts.append(
                    format_html(
                        '<text x="{}" y="{}" class="label">n/a (no cases)</text>', left, y + 13
                    )
                )
                continue
            parts.append(
                format_html(
                    '<rect x="{}" y="{}" width="{}" height="14" class="{}"><title>{}: {}</title>'
                    '</rect><text x="{}" y="{}" class="label">{}</text>',
                    left,
                    y + 2,
                    round(plot_w * value, 1),
                    css,
                    name,
                    f"{value:.3f}",
                    round(left + plot_w * value + 4, 1),
                    y + 13,
                    f"{value:.2f}",
                )
            )
    if not rows:
        parts.append(mark_safe('<text x="4" y="30" class="label">No human decisions yet.</text>'))
    return _svg(width, height, "Agreement between model and moderators", parts)
