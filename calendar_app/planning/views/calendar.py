"""Month, week and day views. One URL serves the page and, for HTMX, the `#calendar` fragment."""

from __future__ import annotations

from datetime import date, timedelta

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.http import urlencode
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from calendar_app.access import Viewer, viewer_for
from calendar_app.core.calendar_grid import (
    FIRST_YEAR,
    LAST_YEAR,
    build_days,
    month_weeks,
    parse_day,
    shift_month,
    utc_bounds,
    week_start,
)
from calendar_app.models import Label, Project
from calendar_app.planning import selectors
from calendar_app.planning.queue import schedule_times
from calendar_app.templatetags.cards import render_cards

TEMPLATE = "calendar_app/calendar.html"


def _selected_project(request: HttpRequest, projects: list[Project]) -> Project | None:
    wanted = request.GET.get("project")
    return next((p for p in projects if p.scripe_id == wanted), None) if wanted else None


def _render(request: HttpRequest, context: dict) -> HttpResponse:
    template = TEMPLATE
    if request.htmx and not request.htmx.boosted:
        template += "#calendar"
    return render(request, template, context)


def _selected_label(request: HttpRequest, labels: list[Label]) -> Label | None:
    wanted = request.GET.get("label")
    return next((lb for lb in labels if str(lb.public_id) == wanted), None) if wanted else None


def _selected_status(request: HttpRequest) -> str:
    wanted = request.GET.get("status", "")
    return wanted if any(value == wanted for value, _ in selectors.STATUS_FILTERS) else ""


def _query(project: Project | None, label: Label | None = None, status: str = "") -> str:
    params = {}
    if project:
        params["project"] = project.scripe_id
    if label:
        params["label"] = str(label.public_id)
    if status:
        params["status"] = status
    return f"?{urlencode(params)}" if params else ""


def _grid(request: HttpRequest, viewer: Viewer, dates: list[date], month: int | None = None):
    """The days to show with their slots, their cards rendered (a month shows a handful a
    day), the filter's query string, and the context every calendar page shares."""
    projects = list(selectors.visible_projects(viewer))
    project = _selected_project(request, projects)
    labels = list(selectors.visible_labels(viewer))
    label = _selected_label(request, labels)
    status = _selected_status(request)
    slots = selectors.card_rows(
        viewer, dates[0], dates[-1], projects=projects, project=project, label=label, status=status
    )
    days = build_days(dates, slots, viewer.zone, timezone.localdate(), month)
    cards = {d: day.visible if month else day.slots for d, day in days.items()}
    render_cards([slot for shown in cards.values() for slot in shown], viewer=viewer)
    for d, shown in cards.items():
        # One string a day, rather than a tag a card for the template to run (300 a week).
        days[d].cards_html = mark_safe("".join(slot.card_html for slot in shown))  # noqa: S308
    window = {"from": dates[0].isoformat(), "to": dates[-1].isoformat()}
    common = {
        # What the live poll asks about (static/js/live.js): this page's days and filter.
        "live_query": urlencode(
            {
                **window,
                "project": project.scripe_id if project else "",
                "label": str(label.public_id) if label else "",
                "status": status,
            }
        ),
        "projects": projects,
        "project": project,
        "labels": labels,
        "label": label,
        "status_filters": selectors.STATUS_FILTERS,
        "status": status,
        "status_name": dict(selectors.STATUS_FILTERS).get(status, ""),
        "shown_count": len(slots),
        "unfiltered_query": _query(project, label),
        "filter_query": _query(project, label, status),
        "zone": viewer.zone.key,
        "can_plan": bool(viewer.memberships),
    }
    return days, _query(project, label, status), common


def _in_month(today: date, year: int, month: int) -> date:
    return today if (today.year, today.month) == (year, month) else date(year, month, 1)


def _day_or_404(value: str) -> date:
    day = parse_day(value)
    if day is None:
        raise Http404(
            _("Not a day the calendar shows (%(first)s to %(last)s).")
            % {"first": FIRST_YEAR, "last": LAST_YEAR}
        )
    return day


@login_required
@require_GET
def month_view(request: HttpRequest, year: int | None = None, month: int | None = None):
    viewer = viewer_for(request)
    today = timezone.localdate()
    year, month = (year, month) if year else (today.year, today.month)
    if not (1 <= month <= 12 and FIRST_YEAR <= year <= LAST_YEAR):
        raise Http404(_("No such month."))
    weeks = month_weeks(year, month)
    days, query, common = _grid(request, viewer, [d for w in weeks for d in w], month)
    prev_y, prev_m = shift_month(year, month, -1)
    next_y, next_m = shift_month(year, month, 1)
    return _render(
        request,
        {
            "mode": "month",
            "title": date_format(date(year, month, 1), "YEAR_MONTH_FORMAT"),
            "weeks": [[days[d] for d in week] for week in weeks],
            "prev_url": reverse("month", args=[prev_y, prev_m]) + query,
            "next_url": reverse("month", args=[next_y, next_m]) + query,
            "today_url": reverse("month", args=[today.year, today.month]) + query,
            # Today's week when today is in this month, else its first week.
            "switch_url": reverse("week", args=[_in_month(today, year, month).isoformat()]) + query,
            "self_url": reverse("month", args=[year, month]),
            "shown_month": f"{year:04d}-{month:02d}",  # New post opens its picker here
            **common,
        },
    )


@login_required
@require_GET
def week_view(request: HttpRequest, day: str):
    viewer = viewer_for(request)
    today = timezone.localdate()
    start = week_start(_day_or_404(day))
    dates = [start + timedelta(days=i) for i in range(7)]
    days, query, common = _grid(request, viewer, dates)
    hours = _week_hours(request)
    end = dates[-1]
    shown = today if today in dates else start + timedelta(days=3)
    hours_base = reverse("week", args=[start.isoformat()]) + (f"{query}&" if query else "?")
    # One date format across the app: "7 Dec" (j M), never "07 Dec"; in the reader's
    # language ("7. Dez." in German), the formats being translated strings.
    first = date_format(start, _("j M") if start.year == end.year else _("j M Y"))
    title = f"{first} – {date_format(end, _('j M Y'))}"
    return _render(
        request,
        {
            "mode": "week",
            "title": title,
            "weeks": [[days[d] for d in dates]],
            "prev_url": reverse("week", args=[(start - timedelta(days=7)).isoformat()]) + query,
            "next_url": reverse("week", args=[(start + timedelta(days=7)).isoformat()]) + query,
            "today_url": reverse("week", args=[today.isoformat()]) + query,
            # Today's month when today is in this week, else the month most of it is in.
            "switch_url": reverse("month", args=[shown.year, shown.month]) + query,
            "whole_day_url": f"{hours_base}start=0&end=24",
            "usual_hours_url": f"{hours_base}start={WEEK_HOURS[0]}&end={WEEK_HOURS[1]}",
            "self_url": reverse("week", args=[start.isoformat()]),
            "shown_month": f"{start:%Y-%m}",
            "hour_rows": _hour_rows(viewer, days, dates, hours, common),
            "hours": hours,
            **common,
        },
    )


@login_required
@require_GET
def day_view(request: HttpRequest, day: str):
    viewer = viewer_for(request)
    the_day = _day_or_404(day)
    days, query, common = _grid(request, viewer, [the_day])
    return render(
        request,
        "calendar_app/day.html",
        {
            "day": days[the_day],
            "month_url": reverse("month", args=[the_day.year, the_day.month]) + query,
            "self_url": reverse("day", args=[the_day.isoformat()]),
            **common,
        },
    )


# The week's hourly grid (#15) -------------------------------------------------------------------

WEEK_HOURS = (7, 21)


def _week_hours(request: HttpRequest) -> tuple[int, int]:
    """The grid's first and last hour: `?start=6&end=22` (kept in the session), else the
    last ones asked for, else 07-21. Cards outside sit in the first or last row."""
    start, end = request.session.get("week_hours", WEEK_HOURS)
    asked = request.GET.get("start"), request.GET.get("end")
    if all(a and a.isdigit() for a in asked):
        first, last = int(asked[0]), int(asked[1])
        if 0 <= first < last <= 24:
            start, end = first, last
            request.session["week_hours"] = (start, end)
    return start, end


def _hour_rows(viewer: Viewer, days, dates: list[date], hours: tuple[int, int], common) -> list:
    """Rows of the grid, an hour each: each day's cards at their local hour, and the
    projects' posting-schedule times not yet taken, as faint empty slots to click."""
    start, end = hours
    zone = viewer.zone
    project = common["project"]
    shown = [project] if project else [p for p in common["projects"] if p.is_active]
    by_project: dict[int, list] = {}
    for entry in selectors.schedule_entries(shown):
        by_project.setdefault(entry.project_id, []).append((entry.weekday, entry.time))
    first, last = utc_bounds(dates[0], dates[-1], zone)
    if common["status"] or common["label"]:
        # The page shows some posts; a time is taken by any (one query more).
        taken = selectors.times_taken([p.pk for p in shown], first, last)
    else:
        taken = {(s.project_id, s.scheduled_for) for d in dates for s in days[d].slots}
    marks: dict[tuple[date, int], list] = {}
    now = timezone.now()
    for p in shown:
        for when, _local in schedule_times(by_project.get(p.pk, []), p.workspace.zone, first, last):
            if (p.pk, when) in taken or when <= now:
                continue
            local = when.astimezone(zone)
            hour = min(max(local.hour, start), end - 1)
            marks.setdefault((local.date(), hour), []).append(
                {"time": f"{local:%H:%M}", "project": p}
            )
    local_now = now.astimezone(zone)
    rows = []
    for hour in range(start, end):
        cells = []
        for d in dates:
            # An hour already begun offers no "+": its time, the row's start, has passed.
            past = days[d].is_past or (d == local_now.date() and hour <= local_now.hour)
            shown_here = [
                s
                for s in days[d].slots
                if min(max(s.scheduled_for.astimezone(zone).hour, start), end - 1) == hour
            ]
            cells.append(
                {
                    "day": days[d],
                    "iso": d.isoformat(),
                    "cards_html": mark_safe("".join(s.card_html for s in shown_here)),  # noqa: S308
                    "marks": marks.get((d, hour), []),
                    "past": past,
                }
            )
        rows.append({"hour": hour, "label": f"{hour:02d}:00", "cells": cells})
    return rows
