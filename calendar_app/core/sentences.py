"""Sentences put together from parts, some of which may be whole sentences already (a
reason Scripe gave, a name that ends with a full stop)."""

from __future__ import annotations

ENDINGS = (".", "!", "?", "…")
# What may stand after a sentence's own full stop: "…(see Settings.)", "…said “no.”".
CLOSERS = "\"'”’)]"


def sentence(value: object) -> str:
    """The text as a finished sentence: with a full stop, unless it ends with one already
    (or with "!", "?" or "…", maybe inside a closing quote or bracket). A template writes
    `{{ reason|sentence }}`, never `{{ reason }}.`, for a text it does not control (#24)."""
    text = str(value).rstrip()
    if not text or text.rstrip(CLOSERS).endswith(ENDINGS):
        return text
    return text.rstrip(",;:") + "."
