"""Month and week grids in the viewer's time zone, built with the standard `calendar` module.

Days are local days: a slot at 23:30 UTC lands on the next day for a viewer in Berlin. Range
bounds are local midnights turned into UTC, so one indexed query fetches a whole grid.
"""

from __future__ import annotations

import calendar
import zoneinfo
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

CARDS_PER_DAY = 4
# The years the calendar shows: wide enough for any plan, narrow enough that a window's
# bounds never overflow a datetime (year 1 or 9999 in some zone).
FIRST_YEAR, LAST_YEAR = 1970, 2200


def is_showable(day: date) -> bool:
    return FIRST_YEAR <= day.year <= LAST_YEAR


def parse_day(value: object, *, showable: bool = True) -> date | None:
    """An ISO day from a request ("2026-12-07"), or None; with `showable`, also None for a day
    outside the years the calendar shows."""
    try:
        day = date.fromisoformat(str(value))
    except ValueError:
        return None
    return day if not showable or is_showable(day) else None


def parse_clock(value: object) -> time | None:
    """A time of day from a request ("09:30"), or None."""
    try:
        return time.fromisoformat(str(value))
    except ValueError:
        return None


@dataclass
class Day:
    date: date
    in_range: bool
    is_today: bool
    is_past: bool
    slots: list = field(default_factory=list)

    @property
    def visible(self) -> list:
        return self.slots[:CARDS_PER_DAY]

    @property
    def more(self) -> int:
        return max(0, len(self.slots) - CARDS_PER_DAY)


def local_midnight(day: date, zone: zoneinfo.ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone)


def utc_bounds(first: date, last: date, zone: zoneinfo.ZoneInfo) -> tuple[datetime, datetime]:
    """[start, end) in UTC covering local days first..last inclusive."""
    start = local_midnight(first, zone).astimezone(UTC)
    end = local_midnight(last + timedelta(days=1), zone).astimezone(UTC)
    return start, end


def month_weeks(year: int, month: int) -> list[list[date]]:
    return calendar.Calendar(firstweekday=calendar.MONDAY).monthdatescalendar(year, month)


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def build_days(
    dates: list[date], slots, zone: zoneinfo.ZoneInfo, today: date, month: int | None = None
) -> dict[date, Day]:
    by_day: dict[date, list] = defaultdict(list)
    for slot in slots:
        by_day[slot.scheduled_for.astimezone(zone).date()].append(slot)
    return {
        d: Day(
            date=d,
            in_range=month is None or d.month == month,
            is_today=d == today,
            is_past=d < today,
            slots=sorted(by_day.get(d, []), key=lambda s: (s.scheduled_for, s.pk)),
        )
        for d in dates
    }


def shift_month(year: int, month: int, delta: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + delta
    return index // 12, index % 12 + 1


def add_months(moment: datetime, months: int) -> datetime:
    year, month = shift_month(moment.year, moment.month, months)
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)
