"""Chart geometry for the insights page: where each bar, line and tick goes in the SVG, from
the numbers `insights.selectors` computes. The templates only write it down (no JavaScript,
no inline styles: colours are classes in app.css)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from calendar_app.insights import selectors as insights
from calendar_app.pipeline.spend import Spend, utc_midnight


@dataclass
class Rect:
    x: float
    y: float
    width: float
    height: float
    cls: str
    title: str


def nice_ticks(peak: float, count: int = 4) -> list[float]:
    """Round axis steps (1, 2, 5 × 10ⁿ) from 0 to at least `peak`."""
    peak = max(peak, 1)
    raw = peak / count
    magnitude = 10 ** len(str(int(raw))) / 10 if raw >= 1 else 1
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    ticks, value = [], 0.0
    while value < peak:
        value += step
        ticks.append(value)
    return [0.0, *ticks]


class Frame:
    """A plot area inside an SVG of `width` × `height`, leaving room for axis labels."""

    LEFT, RIGHT, TOP, BOTTOM = 44, 12, 12, 34

    def __init__(self, width: int, height: int, peak: float) -> None:
        self.width, self.height = width, height
        self.ticks = nice_ticks(peak)
        self.top_value = self.ticks[-1]
        self.plot_width = width - self.LEFT - self.RIGHT
        self.plot_height = height - self.TOP - self.BOTTOM
        self.baseline = self.TOP + self.plot_height

    def y(self, value: float) -> float:
        return round(self.baseline - self.plot_height * value / self.top_value, 1)

    def y_ticks(self, label=lambda v: f"{v:g}") -> list[dict]:
        return [{"y": self.y(v), "label": label(v)} for v in self.ticks]


def stacked_bars(
    stacks: insights.WeeklyStacks, *, width=760, height=240, classes: list[str] | None = None
) -> dict:
    """Bars of stacked series per week; `classes` colours the series (app.css)."""
    classes = classes or [f"s{i}" for i in range(len(stacks.series))]
    frame = Frame(width, height, max([stacks.total(w) for w in stacks.weeks] or [0]))
    slot = frame.plot_width / len(stacks.weeks)
    bar = slot * 0.7
    rects, labels = [], []
    for n, week in enumerate(stacks.weeks):
        x = round(frame.LEFT + n * slot + (slot - bar) / 2, 1)
        bottom = 0.0
        for index, (key, label) in enumerate(stacks.series):
            value = stacks.value(week, key)
            if not value:
                continue
            top = bottom + value
            y = frame.y(top)
            rects.append(
                Rect(x, y, round(bar, 1), round(frame.y(bottom) - y, 1), classes[index], "")
            )
            # The series' own name, not lowercased: German capitalises its nouns.
            rects[-1].title = _("Week of %(week)s · %(what)s: %(value)s") % {
                "week": _day(week),
                "value": f"{value:g}",
                "what": label,
            }
            bottom = top
        if n % 2 == 0 or slot >= 48:
            labels.append({"x": round(x + bar / 2, 1), "text": _day(week)})
    now_x = None
    if stacks.this_week in stacks.weeks:
        now_x = round(frame.LEFT + stacks.weeks.index(stacks.this_week) * slot, 1)
    return {
        "frame": frame,
        "rects": rects,
        "labels": labels,
        "y_ticks": frame.y_ticks(),
        "now_x": now_x,
        "now_width": round(slot, 1),
        "legend": list(zip(classes, (label for _, label in stacks.series), strict=True)),
    }


def duration_lines(outcomes: insights.Outcomes, *, width=420, height=150) -> dict:
    weeks = outcomes.stacks.weeks
    values = [d.p90 or 0 for d in outcomes.durations.values()]
    frame = Frame(width, height, max(values or [0]))
    slot = frame.plot_width / len(weeks)
    lines = {"median": [], "p90": []}
    # A dot for each week too: a line needs two weeks, and a first week of data is one.
    dots = []
    for n, week in enumerate(weeks):
        d = outcomes.durations.get(week)
        if d is None or d.median is None:
            continue
        x = round(frame.LEFT + n * slot + slot / 2, 1)
        lines["median"].append((x, frame.y(d.median)))
        lines["p90"].append((x, frame.y(d.p90)))
        when = _("Week of %(week)s") % {"week": _day(week)}
        dots.append(
            {
                "x": x,
                "y": frame.y(d.p90),
                "cls": "dot-p90",
                "title": _("%(when)s: p90 %(p90)s") % {"when": when, "p90": duration(d.p90)},
            }
        )
        dots.append(
            {
                "x": x,
                "y": frame.y(d.median),
                "cls": "dot-median",
                "title": _("%(when)s: median %(median)s (%(count)s written)")
                % {"when": when, "median": duration(d.median), "count": d.count},
            }
        )
    labels = [
        {"x": round(frame.LEFT + n * slot + slot / 2, 1), "text": _day(week)}
        for n, week in enumerate(weeks)
    ]
    return {
        "frame": frame,
        "y_ticks": frame.y_ticks(lambda v: f"{v:g} s"),
        "labels": labels,
        "median": " ".join(f"{x},{y}" for x, y in lines["median"]),
        "p90": " ".join(f"{x},{y}" for x, y in lines["p90"]),
        "dots": dots,
    }


def turnaround_bars(turnarounds: insights.Turnarounds, *, width=420) -> dict:
    people = [*turnarounds.managers, turnarounds.overall]
    row, left = 28, 110
    height = row * len(people) + 40
    peak = max([insights.hours(t.p90) or 0 for t in people] or [0])
    ticks = nice_ticks(peak)
    plot = width - left - 20
    scale = plot / ticks[-1]
    bars = []
    for n, person in enumerate(people):
        y = 10 + n * row
        median, p90 = insights.hours(person.median), insights.hours(person.p90)
        bars.append(
            {
                "y": y,
                "text_y": y + 15,
                "who": person.who,
                "overall": person is turnarounds.overall,
                "width": round((median or 0) * scale, 1),
                "p90_x": round(left + (p90 or 0) * scale, 1) if p90 is not None else None,
                "title": ngettext(
                    "%(who)s: %(n)s decision, median %(median)s, p90 %(p90)s",
                    "%(who)s: %(n)s decisions, median %(median)s, p90 %(p90)s",
                    person.decisions,
                )
                % {
                    "who": person.who,
                    "n": person.decisions,
                    "median": duration(person.median),
                    "p90": duration(person.p90),
                },
            }
        )
    axis = [{"x": round(left + t * scale, 1), "label": f"{t:g} h"} for t in ticks]
    return {
        "width": width,
        "height": height,
        "left": left,
        "bars": bars,
        "axis": axis,
        "axis_y": height - 24,
    }


def project_rows(chart: insights.ProjectWeeks, *, width=760) -> dict:
    left, row = 150, 34
    slot = (width - left - 10) / len(chart.weeks)
    bar = slot * 0.7
    peak = chart.peak()
    rows = []
    for n, project in enumerate(chart.projects):
        top = 8 + n * row
        cells = []
        for m, week in enumerate(chart.weeks):
            planned = chart.planned.get((project.pk, week), 0)
            published = chart.published.get((project.pk, week), 0)
            scheduled = chart.scheduled.get((project.pk, week))
            x = round(left + m * slot + (slot - bar) / 2, 1)
            base = top + row - 8
            figures = {
                "project": project.name,
                "week": _day(week),
                "planned": planned,
                "published": published,
                "scheduled": scheduled,
            }
            if scheduled is None:
                title = (
                    _("%(project)s, week of %(week)s: %(planned)s planned, %(published)s published")
                    % figures
                )
            else:
                title = (
                    _(
                        "%(project)s, week of %(week)s: %(planned)s planned, %(published)s "
                        "published, %(scheduled)s on the schedule"
                    )
                    % figures
                )
            cells.append(
                {
                    "x": x,
                    "width": round(bar, 1),
                    "planned_y": round(base - (row - 12) * planned / peak, 1),
                    "planned_h": round((row - 12) * planned / peak, 1),
                    "published_y": round(base - (row - 12) * published / peak, 1),
                    "published_h": round((row - 12) * published / peak, 1),
                    # The schedule's count, as a mark across the bar (none without one).
                    "target_y": (
                        None
                        if scheduled is None
                        else round(base - (row - 12) * scheduled / peak, 1)
                    ),
                    "target_x2": round(x + bar, 1),
                    # Short of the schedule matters where it can still be planned.
                    "short": scheduled is not None
                    and planned < scheduled
                    and (chart.this_week is None or week >= chart.this_week),
                    "title": title,
                }
            )
        rows.append({"name": project.name, "text_y": top + row / 2 + 4, "cells": cells})
    height = 8 + row * max(1, len(chart.projects)) + 24
    labels = [
        {"x": round(left + m * slot + slot / 2, 1), "text": _day(week)}
        for m, week in enumerate(chart.weeks)
        if m % 2 == 0
    ]
    now_x = None
    if chart.this_week in chart.weeks:
        now_x = round(left + chart.weeks.index(chart.this_week) * slot, 1)
    return {
        "width": width,
        "height": height,
        "rows": rows,
        "labels": labels,
        "labels_y": height - 8,
        "now_x": now_x,
        "now_width": round(slot, 1),
    }


def burn_down(spend: Spend, *, width=420, height=200) -> dict | None:
    """Cents left of today's cap, hour by hour (UTC), and where this pace takes it; None
    while the cap is unknown (there is nothing to burn down)."""
    cap = spend.cap_cents
    if not cap:
        return None
    frame = Frame(width, height, cap)
    hour_width = frame.plot_width / 24

    def x(hours: float) -> float:
        return round(frame.LEFT + hours * hour_width, 1)

    midnight = utc_midnight(spend.now)
    now_hours = (spend.now - midnight).total_seconds() / 3600
    points = [(x(0), frame.y(cap))]
    for hour, cents in enumerate(spend.cumulative()):
        end = min(hour + 1, now_hours)
        points.append((x(end), frame.y(max(0, cap - cents))))
    at = spend.forecast_at
    if at is not None:
        forecast = [points[-1], (x((at - midnight).total_seconds() / 3600), frame.y(0))]
    else:
        # The pace does not reach the cap today: where it stands at midnight.
        rest = (midnight + timedelta(days=1) - spend.now).total_seconds()
        left = max(0, cap - spend.spent_cents - spend.cents_per_second * rest)
        forecast = [points[-1], (x(24), frame.y(left))]
    return {
        "frame": frame,
        "y_ticks": frame.y_ticks(lambda v: f"{v:g} ¢"),  # the unit of the figures above it
        "labels": [{"x": x(h), "text": f"{h:02d}:00"} for h in range(0, 24, 6)],
        "actual": " ".join(f"{a},{b}" for a, b in points),
        "forecast": " ".join(f"{a},{b}" for a, b in forecast),
        "now_x": x(now_hours),
    }


def outcome_classes(outcomes: insights.Outcomes) -> list[str]:
    """Written green, each failure reason its own red or orange, cancelled grey."""
    classes, failed = [], 0
    for key, _series in outcomes.stacks.series:
        if key.startswith("failed:"):
            classes.append(f"o-failed{failed}")
            failed += 1
        else:
            classes.append(f"o-{key}")
    return classes


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{round(seconds / 3600, 1):g} h"


def _day(week) -> str:
    """A week's first day as the axis and the tooltips name it ("7 Dec"; "7. Dez")."""
    return date_format(week, _("j M"))
