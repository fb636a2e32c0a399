"""Probabilities and bands in templates, written as the charts write them."""

from django import template

from ..charts import band_text, p_text

register = template.Library()


@register.filter
def prob(value) -> str:
    """0.6685381766403788 -> "0.669"; 0.5 -> "0.5"."""
    return "" if value is None else p_text(value)


@register.filter
def band(value) -> str:
    """(low, high) -> "0.427–0.669"."""
    return "" if value is None else band_text(value)
