"""Links whose address comes from data (Scripe, say) rather than from our own URLs."""

from __future__ import annotations

from django import template
from django.utils.html import format_html

register = template.Library()


@register.filter
def is_http_url(value: object) -> bool:
    """True for an absolute http(s) address with a host. Anything else (`javascript:`,
    `data:`, a relative path, a scheme hidden behind spaces or tabs) is not safe as an href.

    The check is on the text as written, not on a parsed form: parsers drop tabs and newlines
    that browsers drop too, so "java\\tscript:" would otherwise pass a scheme test.
    """
    if not isinstance(value, str):
        return False
    lowered = value.lower()
    for prefix in ("http://", "https://"):
        if lowered.startswith(prefix):
            host = value[len(prefix) :].split("/", 1)[0]
            return bool(host) and not any(c.isspace() or ord(c) < 0x20 for c in value)
    return False


@register.filter
def external_link(value: object, label: str = "") -> str:
    """An <a> that opens the address in a new tab when it is http(s); otherwise the address
    as plain text, so a strange value is visible but cannot be clicked."""
    if not value:
        return ""
    if not is_http_url(value):
        return format_html("{}", value)
    return format_html(
        '<a href="{}" rel="noopener noreferrer" target="_blank">{}</a>', value, label or value
    )
