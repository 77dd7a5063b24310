"""Insights (#18): the pipeline and the team as numbers for charts. Read-only.

Every chart is one function here that asks the database for its totals in a fixed number of
queries, whatever the amount of data (grouped counts, and percentiles computed by the
database, `core.aggregates`). The page (`insights.views`) draws them as SVG with the geometry
from `insights.charts`, and lists the same numbers as tables and CSV.

What the page looks at is a `Scope`: one workspace, maybe one project and one label (#15),
applied in `Scope.slots`, `Scope.jobs` and `Scope.events`, through which every chart reads.

The at-risk rule the lane uses is `planning.at_risk`, shared with the calendar's filter;
today's spend is `pipeline.spend`, shared with the gauge and the admin.
"""

from __future__ import annotations

import zoneinfo
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.db.models import (
    Case,
    CharField,
    Count,
    F,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Coalesce, TruncWeek
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from calendar_app.core.aggregates import (
    Percentile,
    seconds_between,
)
from calendar_app.core.calendar_grid import utc_bounds, week_start
from calendar_app.core.tables import Table
from calendar_app.models import (
    GenerationJob,
    Label,
    PlannedSlot,
    Project,
    ScheduleTime,
    SlotEvent,
    SlotStatus,
    Workspace,
    person_name,
)
from calendar_app.planning.at_risk import (
    at_risk_condition,
    review_decisions,
    usual_times,
)
from calendar_app.planning.queue import schedule_times

WEEKS_BACK = 8
WEEKS_AHEAD = 8


# Percentiles in the database ------------------------------------------------------------------


# What the page looks at ------------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """One workspace, maybe one project and one label, seen from a time zone (weeks start
    on local Mondays). Another filter is one more field, narrowing the three querysets
    below. One label joins one row per slot, so counts stay counts."""

    workspace: Workspace
    zone: zoneinfo.ZoneInfo
    project: Project | None = None
    label: Label | None = None

    def _narrow(self, rows: QuerySet, path: str = "") -> QuerySet:
        if self.project is not None:
            rows = rows.filter(**{f"{path}project": self.project})
        if self.label is not None:
            rows = rows.filter(**{f"{path}labels": self.label})
        return rows

    def slots(self) -> QuerySet:
        return self._narrow(PlannedSlot.objects.alive().filter(workspace=self.workspace))

    def jobs(self) -> QuerySet:
        # Attempts of deleted slots count: Scripe wrote (and charged) them all the same.
        jobs = GenerationJob.objects.filter(slot__workspace=self.workspace)
        return self._narrow(jobs, "slot__")

    def events(self) -> QuerySet:
        events = SlotEvent.objects.filter(slot__workspace=self.workspace)
        return self._narrow(events, "slot__")


def weeks_around(today: date, back: int = WEEKS_BACK, ahead: int = WEEKS_AHEAD) -> list[date]:
    """The Mondays of `back` weeks before this one, this one and `ahead` after it."""
    first = week_start(today) - timedelta(weeks=back)
    return [first + timedelta(weeks=n) for n in range(back + 1 + ahead)]


def _weeks_bounds(weeks: list[date], zone) -> tuple[datetime, datetime]:
    return utc_bounds(weeks[0], weeks[-1] + timedelta(days=6), zone)


def _week_of(value: datetime, zone) -> date:
    return timezone.localtime(value, zone).date() if timezone.is_aware(value) else value.date()


# Posts per week by status ------------------------------------------------------------------------

# The chart stacks statuses in these groups (13 colours would say less); each group names the
# statuses it holds in the legend.
# Lazy names: the module is read once, the page in each reader's language.
STATUS_GROUPS: list[tuple[str, str, tuple[str, ...]]] = [
    ("planned", gettext_lazy("Planned"), (SlotStatus.DRAFT,)),
    (
        "writing",
        gettext_lazy("Being written"),
        (SlotStatus.QUEUED, SlotStatus.GENERATING, SlotStatus.CHANGES_REQUESTED),
    ),
    ("review", gettext_lazy("In review"), (SlotStatus.IN_REVIEW, SlotStatus.APPROVING)),
    ("scheduled", gettext_lazy("Scheduled"), (SlotStatus.SCHEDULED,)),
    ("published", gettext_lazy("Published"), (SlotStatus.PUBLISHED,)),
    (
        "failed",
        gettext_lazy("Failed or cancelled"),
        (SlotStatus.FAILED, SlotStatus.CANCELLED, SlotStatus.REMOVED),
    ),
    ("dropped", gettext_lazy("Rejected or missed"), (SlotStatus.REJECTED, SlotStatus.MISSED)),
]
GROUP_OF_STATUS = {status: key for key, _, statuses in STATUS_GROUPS for status in statuses}


@dataclass
class WeeklyStacks:
    """Counts per week (local Mondays) and series, for a stacked bar chart."""

    weeks: list[date]
    series: list[tuple[str, str]]  # (key, label), bottom first
    counts: dict[tuple[date, str], float] = field(default_factory=dict)
    this_week: date | None = None

    def value(self, week: date, key: str) -> float:
        return self.counts.get((week, key), 0)

    def total(self, week: date) -> float:
        return sum(self.value(week, key) for key, _ in self.series)

    def table(self) -> Table:
        headers = [_("Week of"), *(label for _, label in self.series), _("Total")]
        rows = [
            [week.isoformat(), *(self.value(week, key) for key, _ in self.series), self.total(week)]
            for week in self.weeks
        ]
        return Table(headers, rows)


def posts_by_week(scope: Scope, *, today: date) -> WeeklyStacks:
    """Live slots per local week of their time, by status group: 8 weeks back, this week and
    8 ahead. One query."""
    weeks = weeks_around(today)
    start, end = _weeks_bounds(weeks, scope.zone)
    rows = (
        scope.slots()
        .filter(scheduled_for__gte=start, scheduled_for__lt=end)
        .annotate(week=TruncWeek("scheduled_for", tzinfo=scope.zone))
        .values("week", "status")
        .annotate(n=Count("id"))
        .order_by()
    )
    chart = WeeklyStacks(
        weeks, [(key, label) for key, label, _ in STATUS_GROUPS], this_week=week_start(today)
    )
    for row in rows:
        key = (_week_of(row["week"], scope.zone), GROUP_OF_STATUS.get(row["status"], "planned"))
        chart.counts[key] = chart.counts.get(key, 0) + row["n"]
    return chart


# Generation outcomes and Scripe's time ----------------------------------------------------------

WRITTEN, CANCELLED = "written", "cancelled"
# Failure reasons beyond these many (the most frequent) are shown together as "other".
TOP_REASONS = 4
REASON_LABELS = {
    "content_policy": gettext_lazy("content policy"),
    "source_unusable": gettext_lazy("note unusable"),
    "provider_error": gettext_lazy("AI provider error"),
    "spend_cap_exceeded": gettext_lazy("spend cap"),
    "gave_up": gettext_lazy("took too long"),
    "scripe_unreachable": gettext_lazy("Scripe unreachable"),
    "job_lost": gettext_lazy("job lost"),
}


@dataclass
class Durations:
    """How long Scripe took (accepted → completed), in seconds."""

    count: int = 0
    median: float | None = None
    p90: float | None = None


@dataclass
class Outcomes:
    stacks: WeeklyStacks
    durations: dict[date, Durations]
    overall: Durations

    def table(self) -> Table:
        stacks = self.stacks.table()
        headers = [*stacks.headers, _("Median s"), _("p90 s"), _("Timed")]
        rows = []
        for week, row in zip(self.stacks.weeks, stacks.rows, strict=True):
            d = self.durations.get(week, Durations())
            rows.append([*row, _round(d.median), _round(d.p90), d.count])
        return Table(headers, rows)


def _round(value: float | None, digits: int = 1) -> float | str:
    return "" if value is None else round(value, digits)


def _outcome():
    return Case(
        When(~Q(error_code=""), then=F("error_code")),
        When(scripe_status="DONE", then=Value(WRITTEN)),
        default=Value(CANCELLED),
        output_field=CharField(),
    )


def generation_outcomes(scope: Scope, *, today: date) -> Outcomes:
    """Finished attempts per local week of their end (8 weeks back and this one): written,
    failed by Scripe's (or our) reason, cancelled; and the median and p90 of the time Scripe
    took for the written ones, per week and overall. Three queries."""
    weeks = weeks_around(today, ahead=0)
    start, end = _weeks_bounds(weeks, scope.zone)
    ended = Coalesce("completed_at", "accepted_at", "submitted_at", "created_at")
    finished = (
        scope.jobs()
        .filter(finished=True)
        .annotate(ended=ended)
        .filter(ended__gte=start, ended__lt=end)
        .annotate(week=TruncWeek("ended", tzinfo=scope.zone))
    )
    counts: dict[tuple[date, str], int] = defaultdict(int)
    by_reason: dict[str, int] = defaultdict(int)
    rows = finished.annotate(outcome=_outcome()).values("week", "outcome").annotate(n=Count("id"))
    for row in rows.order_by():
        week = _week_of(row["week"], scope.zone)
        counts[(week, row["outcome"])] += row["n"]
        if row["outcome"] not in (WRITTEN, CANCELLED):
            by_reason[row["outcome"]] += row["n"]
    reasons = sorted(by_reason, key=lambda r: (-by_reason[r], r))
    shown, rest = reasons[:TOP_REASONS], set(reasons[TOP_REASONS:])
    series = [(WRITTEN, _("Written"))]
    series += [
        (
            f"failed:{r}",
            _("Failed: %(reason)s") % {"reason": REASON_LABELS.get(r, r.replace("_", " "))},
        )
        for r in shown
    ]
    if rest:
        series.append(("failed:other", _("Failed: other reasons")))
    series.append((CANCELLED, _("Cancelled")))
    stacks = WeeklyStacks(weeks, series, this_week=week_start(today))
    for (week, outcome), n in counts.items():
        if outcome in (WRITTEN, CANCELLED):
            key = outcome
        else:
            key = "failed:other" if outcome in rest else f"failed:{outcome}"
        stacks.counts[(week, key)] = stacks.counts.get((week, key), 0) + n

    timed = finished.filter(
        error_code="", scripe_status="DONE", accepted_at__isnull=False, completed_at__isnull=False
    )
    took = seconds_between("accepted_at", "completed_at")
    durations = {}
    per_week = timed.values("week").annotate(
        n=Count("id"), median=Percentile(took, 0.5), p90=Percentile(took, 0.9)
    )
    for row in per_week.order_by():
        durations[_week_of(row["week"], scope.zone)] = Durations(
            row["n"], row["median"], row["p90"]
        )
    total = timed.aggregate(n=Count("id"), median=Percentile(took, 0.5), p90=Percentile(took, 0.9))
    return Outcomes(stacks, durations, Durations(total["n"], total["median"], total["p90"]))


# Review turnaround --------------------------------------------------------------------------------


@dataclass
class Turnaround:
    who: str
    decisions: int
    median: float | None  # seconds
    p90: float | None


@dataclass
class Turnarounds:
    managers: list[Turnaround]
    overall: Turnaround
    since: date

    def table(self) -> Table:
        rows = [
            [t.who, t.decisions, _round(hours(t.median), 2), _round(hours(t.p90), 2)]
            for t in [*self.managers, self.overall]
        ]
        return Table([_("Manager"), _("Decisions"), _("Median hours"), _("p90 hours")], rows)


def hours(seconds: float | None) -> float | None:
    return None if seconds is None else seconds / 3600


def review_turnaround(scope: Scope, *, today: date) -> Turnarounds:
    """Time from "ready for review" to a manager's decision, for decisions made in the last
    8 weeks and this one: per manager and overall, median and p90. Three queries (the
    managers' names are the third)."""
    since = week_start(today) - timedelta(weeks=WEEKS_BACK)
    start, _end = utc_bounds(since, since, scope.zone)
    decisions = review_decisions(scope.events().filter(created_at__gte=start))
    took = seconds_between("ready_at", "created_at")
    stats = {"n": Count("id"), "median": Percentile(took, 0.5), "p90": Percentile(took, 0.9)}
    rows = list(decisions.values("actor_id").annotate(**stats).order_by())
    total = decisions.aggregate(**stats)
    users = get_user_model().objects.filter(pk__in=[r["actor_id"] for r in rows])
    names = {u.pk: person_name(u) for u in users}
    managers = [
        Turnaround(names.get(r["actor_id"], _("Someone")), r["n"], r["median"], r["p90"])
        for r in rows
    ]
    managers.sort(key=lambda t: (-t.decisions, t.who))
    overall = Turnaround(_("Everyone"), total["n"], total["median"], total["p90"])
    return Turnarounds(managers, overall, since)


# Planned vs published per project, against the posting schedule ---------------------------------


@dataclass
class ProjectWeeks:
    weeks: list[date]
    projects: list[Project]
    planned: dict[tuple[int, date], int] = field(default_factory=dict)
    published: dict[tuple[int, date], int] = field(default_factory=dict)
    # Posting times the project's schedule (#15) has in each week; absent: no schedule.
    scheduled: dict[tuple[int, date], int] = field(default_factory=dict)
    this_week: date | None = None

    def table(self) -> Table:
        headers = [_("Project"), _("Week of"), _("On the schedule"), _("Planned"), _("Published")]
        rows = [
            [
                project.name,
                week.isoformat(),
                self.scheduled.get((project.pk, week), ""),
                self.planned.get((project.pk, week), 0),
                self.published.get((project.pk, week), 0),
            ]
            for project in self.projects
            for week in self.weeks
        ]
        return Table(headers, rows)

    def peak(self) -> int:
        counts = (*self.planned.values(), *self.published.values(), *self.scheduled.values())
        return max([1, *counts])


def planned_vs_published(scope: Scope, *, today: date) -> ProjectWeeks:
    """Per project and local week of the slot's time: live slots planned, how many of them
    were published, and how many posting times the project's schedule has that week. The
    schedule is today's (changes to it are not kept), a paused project has none (the queue
    does not fill it), and with a label none is counted. Three queries (two with a label)."""
    weeks = weeks_around(today)
    start, end = _weeks_bounds(weeks, scope.zone)
    projects = Project.objects.filter(workspace=scope.workspace)
    if scope.project:
        projects = projects.filter(pk=scope.project.pk)
    chart = ProjectWeeks(weeks, list(projects), this_week=week_start(today))
    rows = (
        scope.slots()
        .filter(scheduled_for__gte=start, scheduled_for__lt=end)
        .annotate(week=TruncWeek("scheduled_for", tzinfo=scope.zone))
        .values("project_id", "week")
        .annotate(planned=Count("id"), published=Count("id", filter=Q(status=SlotStatus.PUBLISHED)))
        .order_by()
    )
    for row in rows:
        key = (row["project_id"], _week_of(row["week"], scope.zone))
        chart.planned[key] = row["planned"]
        chart.published[key] = row["published"]
    if scope.label is not None:
        return chart  # a label's posts are some of a project's: its schedule is for all
    active = {p.pk for p in chart.projects if p.is_active}
    schedules: dict[int, list[tuple[int, time]]] = defaultdict(list)
    entries = ScheduleTime.objects.filter(project_id__in=active).values_list(
        "project_id", "weekday", "time"
    )
    for project_id, weekday, clock in entries:
        schedules[project_id].append((weekday, clock))
    # A schedule time is local to the workspace; a week is the viewer's.
    for project_id, schedule in schedules.items():
        for when, _local in schedule_times(schedule, scope.workspace.zone, start, end):
            key = (project_id, week_start(timezone.localtime(when, scope.zone).date()))
            chart.scheduled[key] = chart.scheduled.get(key, 0) + 1
        for week in weeks:
            chart.scheduled.setdefault((project_id, week), 0)
    return chart


# Spend against Scripe's daily cap ---------------------------------------------------------------


# At risk -------------------------------------------------------------------------------------


def at_risk_slots(scope: Scope, *, now: datetime | None = None, limit: int = 50):
    """The at-risk lane: soonest first, with what the lane shows. Three queries."""
    now = now or timezone.now()
    usual = usual_times([scope.workspace], now=now)
    condition = at_risk_condition([scope.workspace], now=now, usual=usual)
    slots = scope.slots().filter(condition).select_related("project", "note")
    slots = list(slots.order_by("scheduled_for", "id")[:limit])
    for slot in slots:
        slot.time_left = slot.scheduled_for - now
    return slots, usual[scope.workspace.pk]
