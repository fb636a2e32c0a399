"""Small template helpers for the moderator's workbench."""

from django import template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from ..models import MODERATOR_REASONS, REASONS_BY_DECISION
from ..models import clock as _clock

register = template.Library()


def _span(minutes: int) -> str:
    minutes = abs(minutes)
    if minutes < 60:
        return f"{minutes} min"
    hours, rest = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {rest:02d} min" if rest else f"{hours} h"
    return f"{hours // 24} days"


@register.simple_tag
def countdown(due_at, now=None):
    """A deadline as a countdown the page keeps up to date ("due in 42 min", "overdue 5 min")."""
    if due_at is None:
        return mark_safe('<span class="due muted">no deadline</span>')
    now = now or timezone.now()
    minutes = int((due_at - now).total_seconds() / 60)  # towards zero: "overdue 2 min"
    state = "overdue" if minutes < 0 else ("soon" if minutes < 15 else "ok")
    text = f"overdue {_span(minutes)}" if minutes < 0 else f"due in {_span(minutes)}"
    local = timezone.localtime(due_at)
    return format_html(
        '<time class="due due-{}" datetime="{}" data-due title="due {}">{}</time>',
        state,
        due_at.isoformat(),
        local.strftime("%Y-%m-%d %H:%M %Z"),
        text,
    )


@register.filter
def clock(seconds):
    return "" if seconds is None else _clock(seconds)


@register.simple_tag
def reason_options(selected=""):
    """The reason <option>s, each saying which decisions it fits (the page hides the others)."""
    fits = {
        code: [d.value for d, codes in REASONS_BY_DECISION.items() if code in codes]
        for code, _ in MODERATOR_REASONS
    }
    parts = [mark_safe('<option value="">— choose a reason —</option>')]
    for code, label in MODERATOR_REASONS:
        parts.append(
            format_html(
                '<option value="{}" data-for="{}"{}>{}</option>',
                code,
                " ".join(fits[code]),
                " selected" if code == selected else "",
                label,
            )
        )
    return mark_safe("".join(str(p) for p in parts))  # every piece escaped above
