"""The API's own field types."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TypeVar

from rest_framework import serializers

from calendar_app.core.refusals import Refusal
from calendar_app.planning import rules

T = TypeVar("T")


class Text(serializers.CharField):
    """A string, and only a string: DRF's CharField turns `0` or `1.5` into "0" and "1.5",
    so a client sending the wrong type would get a label named "0" instead of being told.
    The schema says `string`, and the answer keeps to it (400 with the field's sentence)."""

    default_error_messages = {"invalid": "Send text (a JSON string) here."}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


def _showable(rule: Callable[..., T], value: T) -> T:
    """The planning rule's answer as the field's (400 with the pages' sentence)."""
    try:
        return rule(value)
    except Refusal as refusal:
        raise serializers.ValidationError(refusal.message, code="invalid") from None


class Day(serializers.DateField):
    """A local day (YYYY-MM-DD) the calendar shows: year 1 or 9999 would overflow once the
    day becomes a window in the person's zone, so it is refused as the pages refuse it."""

    def to_internal_value(self, value) -> dt.date:
        return _showable(rules.showable_day, super().to_internal_value(value))


class Moment(serializers.DateTimeField):
    """A time (ISO 8601; without an offset, UTC) on a day the calendar shows, checked as
    written, before DRF turns it into UTC and the view into the person's zone (either
    overflows at year 1 or 9999)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(default_timezone=dt.UTC, **kwargs)

    def enforce_timezone(self, value: dt.datetime) -> dt.datetime:
        return super().enforce_timezone(_showable(rules.showable_moment, value))
