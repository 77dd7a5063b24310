"""The rules every way in shares: text limits, characters we can store, when a post may be
planned. Services call these, so a form, a CSV row, a bulk action or a webhook gets the same
answer in the same words. Each raises a `Refusal` keyed by the field at fault.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable
from datetime import date, datetime, time
from typing import TypeVar

from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from calendar_app.core.calendar_grid import FIRST_YEAR, LAST_YEAR, is_showable
from calendar_app.core.refusals import Refusal
from calendar_app.models import LANGUAGES
from calendar_app.planning.scheduling import (
    TIME_STEP_MINUTES,
    LocalTimeError,
    local_to_utc,
    schedule_problem,
)
from scripe_integration.contract import (
    POST_CONTENT_MAX_CHARS,
    POST_TITLE_MAX_CHARS,
    SOURCE_TEXT_MAX_CHARS,
)

# The contract's limits (Scripe refuses longer input) and our own for people's words.
NOTE_MAX_CHARS = SOURCE_TEXT_MAX_CHARS
TITLE_MAX_CHARS = POST_TITLE_MAX_CHARS
CONTENT_MAX_CHARS = POST_CONTENT_MAX_CHARS
REVIEW_COMMENT_MAX_CHARS = 2_000
COMMENT_MAX_CHARS = 5_000
LANGUAGE_CODES = frozenset(code for code, _name in LANGUAGES)

T = TypeVar("T")


def text(value: str | None, *, field: str, label: str, limit: int, required: str = "") -> str:
    """The text as given (never cut), or a refusal saying what is wrong and by how much."""
    value = value or ""
    if "\x00" in value:
        # PostgreSQL cannot store NUL; it arrives with text pasted from binary files.
        raise Refusal(
            fields={
                field: _(
                    "%(label)s contains a NUL character, which cannot be stored. Remove it (it "
                    "often comes with text copied from a binary file)."
                )
                % {"label": label}
            }
        )
    if required and not value.strip():
        raise Refusal(fields={field: required})
    over = len(value) - limit
    if over > 0:
        raise Refusal(
            fields={
                field: ngettext(
                    "%(label)s is %(length)s characters long; the limit is %(limit)s. "
                    "Shorten it by %(over)s character.",
                    "%(label)s is %(length)s characters long; the limit is %(limit)s. "
                    "Shorten it by %(over)s characters.",
                    over,
                )
                % {
                    "label": label,
                    "length": number_format(len(value), force_grouping=True),
                    "limit": number_format(limit, force_grouping=True),
                    "over": number_format(over, force_grouping=True),
                }
            }
        )
    return value


def language(value: str, *, field: str = "language") -> str:
    if value not in LANGUAGE_CODES:
        raise Refusal(fields={field: _("Pick one of the languages in the list.")})
    return value


def showable_day(day: date, *, field: str = "time") -> date:
    """The day, if the calendar shows it. Checked before any arithmetic on a day from
    outside (an API's filter, a series' end): year 1 or 9999 overflows once turned into a
    zone or a window's bounds."""
    if not is_showable(day):
        raise Refusal(
            fields={
                field: _("Pick a day between %(first)s and %(last)s.")
                % {"first": FIRST_YEAR, "last": LAST_YEAR}
            }
        )
    return day


def showable_moment(when: datetime, *, field: str = "time") -> datetime:
    """The moment, if its day (as written, in its own offset) is one the calendar shows:
    a day in range stays in range in any zone, so converting it cannot overflow."""
    showable_day(when.date(), field=field)
    return when


def plan_time(day: date, clock: time, zone: zoneinfo.ZoneInfo, *, field: str = "time") -> datetime:
    """The UTC moment of a local day and time, if a post may be planned then: a day the
    calendar shows, a time on the planning grid that exists that day (not inside a DST gap),
    at least the minimum lead ahead and within the planning horizon."""
    showable_day(day, field=field)
    if clock.minute % TIME_STEP_MINUTES or clock.second or clock.microsecond:
        raise Refusal(
            fields={
                field: _("Pick a time on a %(step)d-minute step, like 09:00 or 09:15.")
                % {"step": TIME_STEP_MINUTES}
            }
        )
    if day < timezone.localdate(timezone=zone):
        # A whole day in the past is about the day, not the time picked on it.
        raise Refusal(
            fields={
                field: _("%(day)s has passed. Pick today or a later day.")
                % {"day": date_format(day, _("j M Y"))}
            }
        )
    try:
        when = local_to_utc(day, clock, zone)
    except LocalTimeError as error:
        raise Refusal(fields={field: str(error)}) from None
    problem = schedule_problem(when)
    if problem:
        raise Refusal(fields={field: problem})
    return when


class Problems:
    """Collects the refusals of several checks, so a form shows every field's problem at
    once rather than one per submit."""

    def __init__(self) -> None:
        self.fields: dict[str, str] = {}

    def check(self, rule: Callable[..., T], *args, **kwargs) -> T | None:
        try:
            return rule(*args, **kwargs)
        except Refusal as refusal:
            self.fields.update(refusal.fields or {"__all__": refusal.message})
            return None

    def add(self, field: str, message: str) -> None:
        self.fields.setdefault(field, message)

    def raise_any(self) -> None:
        if self.fields:
            raise Refusal(fields=self.fields)
