"""Durations in words, for the pages that say how long something takes ("1 hour 30 minutes")."""

from __future__ import annotations

from datetime import timedelta

from django import template

register = template.Library()


@register.filter
def in_words(value: object) -> str:
    """A timedelta as "15 minutes", "1 hour" or "1 hour 30 minutes" (whole minutes)."""
    if not isinstance(value, timedelta):
        return ""
    minutes = max(1, round(value.total_seconds() / 60))
    hours, minutes = divmod(minutes, 60)
    parts = []
    if hours:
        parts.append(f"{hours} hour{'s' if hours != 1 else ''}")
    if minutes:
        parts.append(f"{minutes} minute{'s' if minutes != 1 else ''}")
    return " ".join(parts)
