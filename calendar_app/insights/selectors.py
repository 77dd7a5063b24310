"""Insights (#18): the pipeline, the team and the Scripe spend, as numbers for charts.

Every chart is one function here that asks the database for its totals in a fixed number of
queries, whatever the amount of data (grouped counts, and percentiles computed by the
database: PostgreSQL's `percentile_cont`; on SQLite, the same rule registered on the
connection). The page (views/insights.py) draws them as SVG and lists the same numbers as
tables and CSV.

What the page looks at is a `Scope`: one workspace, maybe one project and one label (#15),
applied in `Scope.slots`, `Scope.jobs` and `Scope.events`, through which every chart reads.

Also here: the at-risk rule (drafts that will likely miss their time), today's spend against
Scripe's daily cap with a forecast, and the optional auto-generation the sweep runs.
"""

from __future__ import annotations

import math
import zoneinfo
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import (
    Aggregate,
    Case,
    CharField,
    Count,
    F,
    FloatField,
    Func,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, TruncHour, TruncWeek
from django.utils import timezone

from calendar_app.core.calendar_grid import utc_bounds, week_start
from calendar_app.core.refusals import Refusal
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
from calendar_app.planning.queue import schedule_times
from calendar_app.planning.scheduling import MIN_LEAD
from scripe_integration.plans import GENERATION_CENTS, PLAN_CAP_CENTS

WEEKS_BACK = 8
WEEKS_AHEAD = 8
# "Usual" times are medians over this much history; without any, these defaults stand in.
HISTORY = timedelta(days=90)
DEFAULT_GENERATION = timedelta(minutes=10)
DEFAULT_REVIEW = timedelta(hours=4)
# A median of fewer than this many is not "usual": one quick review must not shrink the
# review time every draft is given to a few minutes.
MIN_SAMPLES = 5
# The forecast's pace is the spend of the last hour or two over the time it took, never over
# less than this, so one generation a minute ago does not forecast the cap within the hour.
FORECAST_MIN_ELAPSED = timedelta(minutes=30)
# Auto-generation sends at most this many drafts per workspace per sweep (every minute).
AUTO_BATCH = 50


# Percentiles in the database ------------------------------------------------------------------


def percentile(values: list[float], fraction: float) -> float | None:
    """The continuous percentile (linear interpolation between the closest ranks), as
    PostgreSQL's `percentile_cont` computes it; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


class _SqlitePercentile:
    """`insights_percentile(value, fraction)` for SQLite, which has no percentile of its own."""

    def __init__(self) -> None:
        self.values: list[float] = []
        self.fraction = 0.5

    def step(self, value, fraction) -> None:
        if value is not None:
            self.values.append(float(value))
            self.fraction = float(fraction)

    def finalize(self) -> float | None:
        return percentile(self.values, self.fraction)


class Percentile(Aggregate):
    """The `fraction` percentile of an expression, computed by the database."""

    function = "percentile_cont"
    name = "Percentile"

    def __init__(self, expression, fraction: float, **extra) -> None:
        self.fraction = float(fraction)
        super().__init__(expression, output_field=FloatField(), **extra)

    def as_postgresql(self, compiler, connection, **extra):
        template = f"percentile_cont({self.fraction!r}) WITHIN GROUP (ORDER BY %(expressions)s)"
        return self.as_sql(compiler, connection, template=template, **extra)

    def as_sqlite(self, compiler, connection, **extra):
        # Registering again is cheap and covers every new connection (a thread, a reconnect).
        connection.ensure_connection()
        connection.connection.create_aggregate("insights_percentile", 2, _SqlitePercentile)
        template = f"insights_percentile(%(expressions)s, {self.fraction!r})"
        return self.as_sql(compiler, connection, template=template, **extra)


class SecondsBetween(Func):
    """`end - start` in seconds, computed by the database (to the millisecond on SQLite,
    whose julianday() is a float of days). Each moment appears once in the SQL, so either
    may be a subquery with parameters."""

    output_field = FloatField()
    arity = 2

    def as_postgresql(self, compiler, connection, **extra):
        start, end = self.source_expressions
        template = "EXTRACT(EPOCH FROM (%(end)s - %(start)s))::float8"
        return self._two(compiler, connection, template, start, end)

    def as_sqlite(self, compiler, connection, **extra):
        start, end = self.source_expressions
        template = "ROUND((julianday(%(end)s) - julianday(%(start)s)) * 86400.0, 3)"
        return self._two(compiler, connection, template, start, end)

    def _two(self, compiler, connection, template, start, end):
        start_sql, start_params = compiler.compile(start)
        end_sql, end_params = compiler.compile(end)
        # The end comes first in both templates.
        return template % {"start": start_sql, "end": end_sql}, (*end_params, *start_params)


def seconds_between(start: str, end: str) -> SecondsBetween:
    return SecondsBetween(F(start), F(end))


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


@dataclass
class Table:
    """A chart's numbers as rows, for the accessible table and the CSV download."""

    headers: list[str]
    rows: list[list]


# Posts per week by status ------------------------------------------------------------------------

# The chart stacks statuses in these groups (13 colours would say less); each group names the
# statuses it holds in the legend.
STATUS_GROUPS: list[tuple[str, str, tuple[str, ...]]] = [
    ("planned", "Planned", (SlotStatus.DRAFT,)),
    (
        "writing",
        "Being written",
        (SlotStatus.QUEUED, SlotStatus.GENERATING, SlotStatus.CHANGES_REQUESTED),
    ),
    ("review", "In review", (SlotStatus.IN_REVIEW, SlotStatus.APPROVING)),
    ("scheduled", "Scheduled", (SlotStatus.SCHEDULED,)),
    ("published", "Published", (SlotStatus.PUBLISHED,)),
    (
        "failed",
        "Failed or cancelled",
        (SlotStatus.FAILED, SlotStatus.CANCELLED, SlotStatus.REMOVED),
    ),
    ("dropped", "Rejected or missed", (SlotStatus.REJECTED, SlotStatus.MISSED)),
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
        headers = ["Week of", *(label for _, label in self.series), "Total"]
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
    "content_policy": "content policy",
    "source_unusable": "note unusable",
    "provider_error": "AI provider error",
    "spend_cap_exceeded": "spend cap",
    "gave_up": "took too long",
    "scripe_unreachable": "Scripe unreachable",
    "job_lost": "job lost",
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
        headers = [*stacks.headers, "Median s", "p90 s", "Timed"]
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
    series = [(WRITTEN, "Written")]
    series += [
        (f"failed:{r}", f"Failed: {REASON_LABELS.get(r, r.replace('_', ' '))}") for r in shown
    ]
    if rest:
        series.append(("failed:other", "Failed: other reasons"))
    series.append((CANCELLED, "Cancelled"))
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

# A manager's decision on a draft in review: the status event right after "ready for review",
# made by a person. Approving (the claim before Scripe is asked), rejecting, or asking for
# changes (which records the new attempt, queued, by the manager). Drafts that missed their
# time, or were scheduled from Scripe's dashboard, were not decided here and do not count.
DECISION_STATUSES = (SlotStatus.APPROVING, SlotStatus.REJECTED, SlotStatus.QUEUED)


def _decisions(events: QuerySet) -> QuerySet:
    """Decision events, each with `ready_at`: when the draft it decides became ready."""
    before = SlotEvent.objects.filter(
        slot_id=OuterRef("slot_id"), kind=SlotEvent.Kind.STATUS
    ).filter(
        Q(created_at__lt=OuterRef("created_at"))
        | Q(created_at=OuterRef("created_at"), id__lt=OuterRef("id"))
    )
    previous = before.order_by("-created_at", "-id")
    return (
        events.filter(kind=SlotEvent.Kind.STATUS, status__in=DECISION_STATUSES, actor__isnull=False)
        .annotate(
            previous_status=Subquery(previous.values("status")[:1]),
            ready_at=Subquery(previous.values("created_at")[:1]),
        )
        .filter(previous_status=SlotStatus.IN_REVIEW)
    )


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
        return Table(["Manager", "Decisions", "Median hours", "p90 hours"], rows)


def hours(seconds: float | None) -> float | None:
    return None if seconds is None else seconds / 3600


def review_turnaround(scope: Scope, *, today: date) -> Turnarounds:
    """Time from "ready for review" to a manager's decision, for decisions made in the last
    8 weeks and this one: per manager and overall, median and p90. Three queries (the
    managers' names are the third)."""
    since = week_start(today) - timedelta(weeks=WEEKS_BACK)
    start, _ = utc_bounds(since, since, scope.zone)
    decisions = _decisions(scope.events().filter(created_at__gte=start))
    took = seconds_between("ready_at", "created_at")
    stats = {"n": Count("id"), "median": Percentile(took, 0.5), "p90": Percentile(took, 0.9)}
    rows = list(decisions.values("actor_id").annotate(**stats).order_by())
    total = decisions.aggregate(**stats)
    users = get_user_model().objects.filter(pk__in=[r["actor_id"] for r in rows])
    names = {u.pk: person_name(u) for u in users}
    managers = [
        Turnaround(names.get(r["actor_id"], "Someone"), r["n"], r["median"], r["p90"]) for r in rows
    ]
    managers.sort(key=lambda t: (-t.decisions, t.who))
    overall = Turnaround("Everyone", total["n"], total["median"], total["p90"])
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
        headers = ["Project", "Week of", "On the schedule", "Planned", "Published"]
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


def utc_midnight(now: datetime) -> datetime:
    return datetime.combine(now.astimezone(UTC).date(), time(0), tzinfo=UTC)


def forecast_cap_at(
    *, spent_cents: int, cap_cents: int | None, now: datetime, cents_per_second: float
) -> datetime | None:
    """When, at `cents_per_second`, the cap is reached: now if it is, None when there is no
    cap, no pace, or the pace does not reach it before 00:00 UTC."""
    if not cap_cents:
        return None
    if spent_cents >= cap_cents:
        return now
    if cents_per_second <= 0:
        return None
    at = now + timedelta(seconds=(cap_cents - spent_cents) / cents_per_second)
    return at if at < utc_midnight(now) + timedelta(days=1) else None


@dataclass
class Spend:
    """Today's (UTC) spend of one workspace, estimated from the generations Scripe accepted,
    against the plan's cap (or the cap Scripe named in a 402)."""

    now: datetime
    generations: int
    hourly: list[int]  # generations charged in each UTC hour so far
    plan: str = ""
    cap_cents: int | None = None
    scripe_spent_cents: int | None = None  # what Scripe said in today's 402
    reached_until: datetime | None = None

    @property
    def estimated_cents(self) -> int:
        return self.generations * GENERATION_CENTS

    @property
    def spent_cents(self) -> int:
        return max(self.estimated_cents, self.scripe_spent_cents or 0)

    @property
    def left_cents(self) -> int | None:
        return None if self.cap_cents is None else max(0, self.cap_cents - self.spent_cents)

    @property
    def percent(self) -> int:
        if not self.cap_cents:
            return 0
        return min(100, round(100 * self.spent_cents / self.cap_cents))

    @property
    def _pace_hour(self) -> int:
        """The UTC hour "this pace" starts: the previous one (today's), so the pace is the
        last one to two hours'. A morning's burst does not make the evening's forecast, nor
        does a quiet morning hide a burst now."""
        return max(0, int((self.now - utc_midnight(self.now)).total_seconds() // 3600) - 1)

    @property
    def pace_since(self) -> datetime:
        return utc_midnight(self.now) + timedelta(hours=self._pace_hour)

    @property
    def cents_per_second(self) -> float:
        """The pace: what was charged since `pace_since`, over at least
        FORECAST_MIN_ELAPSED (one generation a minute ago is not a pace of one a minute)."""
        cents = sum(self.hourly[self._pace_hour :]) * GENERATION_CENTS
        elapsed = max(self.now - self.pace_since, FORECAST_MIN_ELAPSED)
        return cents / elapsed.total_seconds()

    @property
    def forecast_at(self) -> datetime | None:
        if self.reached_until is not None:
            return self.now
        return forecast_cap_at(
            spent_cents=self.spent_cents,
            cap_cents=self.cap_cents,
            now=self.now,
            cents_per_second=self.cents_per_second,
        )

    @property
    def level(self) -> str:
        """ok, warn (the forecast reaches the cap today, or 80% is spent), or reached."""
        if self.reached_until is not None or (self.cap_cents and self.left_cents == 0):
            return "reached"
        if self.percent >= 80 or self.forecast_at is not None:
            return "warn"
        return "ok"

    @property
    def figures(self) -> str:
        """What was spent, as the page, the gauge and the admin say it."""
        plan = f" ({self.plan.title()} plan)" if self.plan else ""
        if not self.spent_cents:
            text = "Nothing spent yet today"
            if self.cap_cents:
                text += f"; the daily cap is {self.cap_cents} ¢{plan}"
            return text + "."
        text = f"About {self.spent_cents} ¢"
        if self.cap_cents:
            text += f" of the {self.cap_cents} ¢ daily cap{plan}"
        n = self.generations
        text += f": {n} generation{'s' if n != 1 else ''}"
        if self.scripe_spent_cents is not None:
            text += f"; Scripe said {self.scripe_spent_cents} ¢"
        return text + "."

    @property
    def sentence(self) -> str:
        if self.reached_until is not None or (self.cap_cents and self.left_cents == 0):
            return "The daily cap is reached; Scripe takes new generations again at 00:00 UTC."
        if not self.cap_cents:
            return (
                "The daily cap is not known until Scripe names the plan, when an admin "
                "verifies the workspace's key; there is no forecast until then."
            )
        at = self.forecast_at
        if at is None:
            return "At this pace the cap is not reached today."
        return f"At this pace the cap is reached at {at.astimezone(UTC):%H:%M} UTC."

    def cumulative(self) -> list[int]:
        """Cents spent by the end of each UTC hour so far (Scripe's figure, when higher,
        counts from the hour it was told)."""
        total, out = 0, []
        for n in self.hourly:
            total += n * GENERATION_CENTS
            out.append(total)
        if out and self.spent_cents > out[-1]:
            out[-1] = self.spent_cents
        return out

    def table(self) -> Table:
        rows = [
            [f"{hour:02d}:00", n, n * GENERATION_CENTS, cents]
            for hour, (n, cents) in enumerate(zip(self.hourly, self.cumulative(), strict=True))
        ]
        return Table(["Hour (UTC)", "Generations", "Cents", "Cents so far"], rows)


def _charged() -> Q:
    # Accepted by Scripe, or sent and not refused (still on its way): a 402 charges nothing.
    return Q(accepted_at__isnull=False) | Q(submitted_at__isnull=False, error_code="")


def spend_today(workspaces: list[Workspace], *, now: datetime | None = None) -> dict[int, Spend]:
    """Today's spend (UTC day) for each workspace, from one query; the workspaces' Scripe
    connections (`workspace.scripe`) should be loaded with them."""
    now = now or timezone.now()
    midnight = utc_midnight(now)
    hours = int((now - midnight).total_seconds() // 3600) + 1
    per_hour: dict[int, list[int]] = {w.pk: [0] * hours for w in workspaces}
    rows = (
        GenerationJob.objects.filter(slot__workspace__in=[w.pk for w in workspaces])
        .filter(_charged())
        .annotate(at=Coalesce("accepted_at", "submitted_at"))
        .filter(at__gte=midnight, at__lte=now)
        .annotate(hour=TruncHour("at", tzinfo=UTC))
        .values("slot__workspace_id", "hour")
        .annotate(n=Count("id"))
        .order_by()
    )
    for row in rows:
        hour = min(hours - 1, row["hour"].astimezone(UTC).hour)
        per_hour[row["slot__workspace_id"]][hour] += row["n"]
    spends = {}
    for workspace in workspaces:
        connection = getattr(workspace, "scripe", None)
        plan = connection.plan if connection else ""
        spend = Spend(now, sum(per_hour[workspace.pk]), per_hour[workspace.pk], plan=plan)
        spend.cap_cents = PLAN_CAP_CENTS.get(plan)
        if connection is not None:
            meta = connection.spend_cap_meta or {}
            if meta.get("bucketDate") == f"{midnight:%Y-%m-%d}":
                spend.scripe_spent_cents = _cents(meta.get("spentCents"))
                spend.cap_cents = _cents(meta.get("capCents")) or spend.cap_cents
            spend.reached_until = connection.spend_cap_reached_until
        spends[workspace.pk] = spend
    return spends


def _cents(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


# At risk -------------------------------------------------------------------------------------

# Not written yet: the time left must still hold Scripe's usual time and the usual review.
NOT_WRITTEN = frozenset(
    {
        SlotStatus.DRAFT,
        SlotStatus.QUEUED,
        SlotStatus.GENERATING,
        SlotStatus.FAILED,
        SlotStatus.CANCELLED,
        SlotStatus.CHANGES_REQUESTED,
        SlotStatus.REMOVED,
    }
)


@dataclass(frozen=True)
class UsualTimes:
    generation: timedelta = DEFAULT_GENERATION
    review: timedelta = DEFAULT_REVIEW
    generation_known: bool = False
    review_known: bool = False


def usual_times(
    workspaces: list[Workspace], *, now: datetime | None = None
) -> dict[int, UsualTimes]:
    """Per workspace, the median time Scripe took and the median review turnaround over
    HISTORY (the defaults where there are fewer than MIN_SAMPLES; no review time where review
    is off). Two queries."""
    now = now or timezone.now()
    ids = [w.pk for w in workspaces]
    took = seconds_between("accepted_at", "completed_at")
    generation = (
        GenerationJob.objects.filter(
            slot__workspace_id__in=ids,
            scripe_status="DONE",
            error_code="",
            accepted_at__isnull=False,
            completed_at__gte=now - HISTORY,
        )
        .values("slot__workspace_id")
        .annotate(n=Count("id"), median=Percentile(took, 0.5))
        .order_by()
    )
    gen = {r["slot__workspace_id"]: r["median"] for r in generation if r["n"] >= MIN_SAMPLES}
    events = SlotEvent.objects.filter(slot__workspace_id__in=ids, created_at__gte=now - HISTORY)
    review = (
        _decisions(events)
        .values("slot__workspace_id")
        .annotate(n=Count("id"), median=Percentile(seconds_between("ready_at", "created_at"), 0.5))
        .order_by()
    )
    rev = {r["slot__workspace_id"]: r["median"] for r in review if r["n"] >= MIN_SAMPLES}
    usual = {}
    for workspace in workspaces:
        g, r = gen.get(workspace.pk), rev.get(workspace.pk)
        usual[workspace.pk] = UsualTimes(
            generation=timedelta(seconds=g) if g is not None else DEFAULT_GENERATION,
            review=(
                timedelta(0)
                if not workspace.review_required
                else timedelta(seconds=r)
                if r is not None
                else DEFAULT_REVIEW
            ),
            generation_known=g is not None,
            review_known=r is not None,
        )
    return usual


def at_risk_condition(
    workspaces: list[Workspace], *, now: datetime | None = None, usual: dict | None = None
) -> Q:
    """Slots that will likely miss their time: still to be written with less than Scripe's
    usual time plus the usual review left, or in review with less than the usual review
    left. Their time is still ahead (what has passed is missed, not at risk)."""
    now = now or timezone.now()
    usual = usual if usual is not None else usual_times(workspaces, now=now)
    condition = Q(pk__in=[])
    for workspace in workspaces:
        times = usual[workspace.pk]
        unwritten = Q(
            status__in=NOT_WRITTEN, scheduled_for__lt=now + times.generation + times.review
        )
        in_review = Q(status=SlotStatus.IN_REVIEW, scheduled_for__lt=now + times.review)
        condition |= Q(workspace_id=workspace.pk, scheduled_for__gt=now) & (unwritten | in_review)
    return condition


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


# Auto-generation (a write: the sweep calls it every minute) ------------------------------------


def auto_generations_sweep(*, now: datetime | None = None) -> int:
    """For workspaces that ask for it (`auto_generate_hours`), sends drafts whose time is
    within that many hours (and more than the planning lead away) to Scripe, once a slot:
    the mark `auto_generated_at` is set by a conditional UPDATE in the same transaction as
    the request, so two sweeps never send one draft twice, and a refused request leaves it
    unmarked for a later minute. Never after Scripe's 402 for the day, and never beyond the
    estimated cap: manual generation may spend the rest, not this. Returns how many it sent."""
    from calendar_app.pipeline.generation import generation_request

    now = now or timezone.now()
    workspaces = list(Workspace.objects.filter(auto_generate_hours__gt=0).select_related("scripe"))
    if not workspaces:
        return 0
    spends = spend_today(workspaces, now=now)
    sent = 0
    for workspace in workspaces:
        connection = getattr(workspace, "scripe", None)
        if connection is None or connection.blocks_generation:
            continue
        spend = spends[workspace.pk]
        if spend.reached_until is not None:
            continue
        room = None if spend.cap_cents is None else spend.left_cents // GENERATION_CENTS
        due = (
            PlannedSlot.objects.alive()
            .filter(
                workspace=workspace,
                status=SlotStatus.DRAFT,
                auto_generated_at__isnull=True,
                scheduled_for__gt=now + MIN_LEAD,
                scheduled_for__lte=now + timedelta(hours=workspace.auto_generate_hours),
                project__status=Project.Status.ACTIVE,
                project__missing_from_scripe=False,
            )
            .select_related("project", "workspace__scripe")
            .order_by("scheduled_for", "id")[:AUTO_BATCH]
        )
        for slot in due:
            if room is not None and room <= 0:
                break
            try:
                with transaction.atomic():
                    marked = PlannedSlot.objects.filter(
                        pk=slot.pk, status=SlotStatus.DRAFT, auto_generated_at__isnull=True
                    ).update(auto_generated_at=now)
                    if not marked:
                        continue
                    generation_request(slot=slot)
            except Refusal:
                # Nothing was sent and the mark rolled back. The cap or the key stops the
                # rest of this workspace; anything else stops this slot, this minute.
                connection.refresh_from_db(fields=["spend_cap_meta", "key_state"])
                if connection.spend_cap_reached_until or connection.blocks_generation:
                    break
                continue
            sent += 1
            if room is not None:
                room -= 1
    return sent
