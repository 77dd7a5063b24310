"""The rules for when a post may be planned, shared by the slot form and drag-and-drop."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, date, datetime, time, timedelta

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from calendar_app.core.calendar_grid import add_months

MIN_LEAD = timedelta(minutes=5)
MAX_AHEAD_MONTHS = 18
TIME_STEP_MINUTES = 15


def time_choices() -> list[tuple[str, str]]:
    steps = range(0, 24 * 60, TIME_STEP_MINUTES)
    return [(f"{m // 60:02d}:{m % 60:02d}", f"{m // 60:02d}:{m % 60:02d}") for m in steps]


class LocalTimeError(ValueError):
    pass


def local_to_utc(day: date, clock: time, zone: zoneinfo.ZoneInfo) -> datetime:
    """A wall-clock time in the zone, as UTC. Refuses a time that does not exist that day
    (the hour skipped when clocks go forward); an ambiguous one takes its first occurrence."""
    naive = datetime.combine(day, clock)
    local = naive.replace(tzinfo=zone, fold=0)
    utc = local.astimezone(UTC)
    if utc.astimezone(zone).replace(tzinfo=None) != naive:
        raise LocalTimeError(
            _(
                "%(time)s does not exist on %(day)s in %(zone)s: the clocks go forward that "
                "night. Pick another time."
            )
            % {"time": f"{clock:%H:%M}", "day": date_format(day, _("j M Y")), "zone": zone.key}
        )
    return utc


def schedule_problem(when: datetime, now: datetime | None = None) -> str | None:
    """Why `when` cannot be planned, or None when it can."""
    now = now or timezone.now()
    if when < now:
        return _("That time has passed. Pick a time at least 5 minutes from now.")
    if when < now + MIN_LEAD:
        return _("Pick a time at least 5 minutes from now.")
    if when > add_months(now, MAX_AHEAD_MONTHS):
        return _("Pick a time within the next %(months)d months.") % {"months": MAX_AHEAD_MONTHS}
    return None
