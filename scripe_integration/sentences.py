"""Sentences said to a reader not known yet (#30). A task, the sync or a Scripe failure writes
what happened; each person who reads it later reads it in their own language, with times in
their own zone. So a sentence keeps its English message (marked with `gettext_noop` where it
is written, so the catalogues hold it) and its values apart: a row stores them in two columns
(`stored`), and they are put together in the reader's language when shown (`shown`).

`Said` is such a sentence while it is passed around: a `str` of its English words, for logs,
the API and every caller that only needs text, which also knows its message and values."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.formats import date_format
from django.utils.translation import gettext, gettext_noop, override

# A value that is a time, or a sentence of its own, is kept as a small object saying so.
_TIME = "time"
_SAID = "said"
# A value is someone's words (a reason Scripe gave, a person's comment): never longer than
# the column the sentence itself lives in.
VALUE_MAX_CHARS = 500


class Said(str):
    """`Said(gettext_noop("Rescheduled to %(when)s."), when=moment)`: the English sentence
    as a string, with `message` and `values` for whoever shows it later."""

    message: str
    values: dict

    def __new__(cls, message: str, /, **values) -> Said:
        if isinstance(message, Said) and not values:
            return message  # already one: its own message and values, not its English words
        english = message
        if values:
            with override("en"):
                english = shown(message, encoded(values))
        said = super().__new__(cls, english)
        said.message, said.values = message, values
        return said

    def shown(self) -> str:
        """In the active language."""
        return translated(self)

    @classmethod
    def both(cls, first: str, then: str) -> Said:
        """Two sentences, one after the other (what went wrong, then what to do), each kept
        as it is: a message, a `Said`, or someone's words."""
        return cls(gettext_noop("%(failure)s %(advice)s"), failure=cls(first), advice=cls(then))

    @classmethod
    def restored(cls, text: str, params: dict | None) -> Said:
        """The sentence a row stored (`stored`), to be passed on or stored again."""
        return cls(text, **{name: _raw(value) for name, value in (params or {}).items()})


def stored(text: str, max_chars: int | None = None) -> tuple[str, dict | None]:
    """What a row keeps of a sentence: its message and its values (None for a sentence
    without any: a fixed sentence, or words written by someone, kept as they are), the
    message cut to the column's `max_chars`."""
    if isinstance(text, Said):
        return text.message[:max_chars], encoded(text.values) if text.values else None
    return str(text)[:max_chars], None


def translated(text: str) -> str:
    """A sentence said now, a `Said` or a plain message, in the active language."""
    return shown(*stored(text))


def encoded(values: dict) -> dict:
    return {name: _encoded(value) for name, value in values.items()}


def _encoded(value):
    if isinstance(value, datetime):
        return {_TIME: value.isoformat()}
    if isinstance(value, Said):
        message, values = stored(value)
        return {_SAID: message, "values": values}
    if isinstance(value, str):
        return value[:VALUE_MAX_CHARS]
    return value


def shown(text: str, params: dict | None) -> str:
    """The stored sentence in the active language, its times in the active zone. Without
    values, the text is translated if a catalogue has it (a fixed sentence) and shown as
    written otherwise (someone's own words, a row from before values were kept apart)."""
    if not text:
        return ""
    if not params:
        return gettext(text)
    values = {name: _decoded(value) for name, value in params.items()}
    try:
        return gettext(text) % values
    except (KeyError, TypeError, ValueError):
        # A translation that lost a placeholder must not take the page down: the English.
        return text % values


def _raw(value):
    if isinstance(value, dict) and _TIME in value:
        return parse_datetime(value[_TIME]) or value[_TIME]
    if isinstance(value, dict) and _SAID in value:
        return Said.restored(value[_SAID], value.get("values"))
    return value


def _decoded(value):
    if isinstance(value, dict) and _TIME in value:
        when = parse_datetime(value[_TIME])
        if when is None:
            return value[_TIME]
        return date_format(timezone.localtime(when), gettext("D j M, H:i"))
    if isinstance(value, dict) and _SAID in value:
        return shown(value[_SAID], value.get("values"))
    return value
