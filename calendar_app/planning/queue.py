"""A project's posting schedule and its queue (#15).

The schedule is weekdays × local times in the workspace's zone. "Add to queue" plans a post
at the project's next free schedule time that the planning rules allow (`rules.plan_time`:
lead time, DST gap, 18 months), through `services.slot_create`; "Add to top of queue" first
moves the queued posts down one schedule time each, up to the first free one. Moving queued
posts is a manager's (`may_reorder`): top of queue gives other people's posts, and drafts
waiting for review, new times, as a drag on the queue page does. A queued post
is one planned through the queue (`QueueEntry`) and not approved yet
(`QUEUE_MOVABLE_STATUSES`); anything else at a schedule time (a post planned by hand, one
approved or published) holds that time, and the queue flows around it.

Every change to queue times is `PlannedSlot.queue_move`, a conditional UPDATE from the time
the queue saw, inside one transaction that first locks the project's row: reorders and
re-flows of one project run one after the other, and a post that changed meanwhile refuses
the whole change rather than losing or duplicating a time.
"""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from itertools import pairwise

from django.db import transaction
from django.utils import timezone
from django.utils.dates import WEEKDAYS_ABBR
from django.utils.translation import gettext as _

from calendar_app.access import Viewer, viewer_of
from calendar_app.core.calendar_grid import add_months
from calendar_app.core.refusals import Refusal
from calendar_app.models import (
    QUEUE_MOVABLE_STATUSES,
    WEEKDAY_CHOICES,
    PlannedSlot,
    Project,
    QueueEntry,
    Role,
    ScheduleTime,
)
from calendar_app.planning import services
from calendar_app.planning.scheduling import (
    MAX_AHEAD_MONTHS,
    MIN_LEAD,
    TIME_STEP_MINUTES,
    LocalTimeError,
    local_to_utc,
    schedule_problem,
)

# How far one read of the project's posts reaches while looking for free times.
CHUNK = timedelta(weeks=8)
# A schedule of more times than this is a typo (every quarter hour of a week is 672).
SCHEDULE_MAX_TIMES = 60


@dataclass
class QueueTime:
    """One schedule time and what holds it: nothing, a queued post, or a post that stays."""

    when: datetime
    local: datetime
    slots: list[PlannedSlot] = field(default_factory=list)

    @property
    def slot(self) -> PlannedSlot | None:
        return self.slots[0] if self.slots else None

    @property
    def is_free(self) -> bool:
        return not self.slots

    @property
    def is_fixed(self) -> bool:
        """Held by a post the queue may not move."""
        return any(not is_queued(slot) for slot in self.slots)


def is_queued(slot: PlannedSlot) -> bool:
    """Planned through the queue and not approved yet: the queue may give it another time."""
    return _has_entry(slot) and slot.status in QUEUE_MOVABLE_STATUSES


def _has_entry(slot: PlannedSlot) -> bool:
    try:
        return slot.queue_entry is not None
    except QueueEntry.DoesNotExist:
        return False


# the schedule ----------------------------------------------------------------------------------


def schedule_of(project: Project) -> list[tuple[int, time]]:
    return list(project.schedule_times.order_by("weekday", "time").values_list("weekday", "time"))


def describe_schedule(schedule: Iterable[tuple[int, time]]) -> str:
    """ "Tue 08:30, Thu 08:30, Wed 12:00" style, in weekday order."""
    # Django's weekday abbreviations: "Tue" in English, "Di" in German.
    return ", ".join(f"{WEEKDAYS_ABBR[d]} {t:%H:%M}" for d, t in sorted(schedule))


def parse_schedule(days: dict[int, str]) -> list[tuple[int, time]]:
    """Each weekday's times as typed ("08:30, 12:00"), checked: real times on the planning
    grid, at most SCHEDULE_MAX_TIMES in all. Raises a Refusal keyed by the weekday's field."""
    problems: dict[str, str] = {}
    entries: set[tuple[int, time]] = set()
    for weekday, text in days.items():
        for part in (text or "").replace(";", ",").replace(" ", ",").split(","):
            if not part:
                continue
            match = re.fullmatch(r"(\d{1,2})(?:[:.h](\d{2}))?", part)
            if not match or int(match[1]) > 23 or int(match[2] or 0) > 59:
                problems[f"day_{weekday}"] = _("%(text)s is not a time; write it like 08:30.") % {
                    "text": repr(part)
                }
                continue
            clock = time(int(match[1]), int(match[2] or 0))
            if clock.minute % TIME_STEP_MINUTES or clock.second or clock.microsecond:
                problems[f"day_{weekday}"] = _(
                    "%(time)s is not on the %(step)s-minute grid, like 08:30."
                ) % {"time": f"{clock:%H:%M}", "step": TIME_STEP_MINUTES}
                continue
            entries.add((weekday, clock))
    if len(entries) > SCHEDULE_MAX_TIMES:
        problems["__all__"] = _("A schedule takes at most %(max)s times a week.") % {
            "max": SCHEDULE_MAX_TIMES
        }
    if problems:
        raise Refusal(fields=problems)
    return sorted(entries)


@transaction.atomic
def schedule_set(*, project: Project, schedule: list[tuple[int, time]]) -> int:
    """Replaces the project's posting schedule. Returns how many queued posts now sit off
    it, which the page offers to re-flow (nothing moves without asking)."""
    _lock(project)
    project.schedule_times.all().delete()
    ScheduleTime.objects.bulk_create(
        ScheduleTime(project=project, weekday=d, time=t) for d, t in schedule
    )
    return len(off_schedule(project))


def schedule_times(
    schedule: list[tuple[int, time]], zone: zoneinfo.ZoneInfo, start: datetime, end: datetime
) -> Iterator[tuple[datetime, datetime]]:
    """(UTC, local) of every schedule time in [start, end), in order. A local time the
    clocks skip that day (DST) is no schedule time that day; one that happens twice is its
    first."""
    by_day: dict[int, list[time]] = {}
    for weekday, clock in sorted(schedule):
        by_day.setdefault(weekday, []).append(clock)
    day: date = start.astimezone(zone).date()
    last = end.astimezone(zone).date()
    while day <= last:
        for clock in by_day.get(day.weekday(), ()):
            try:
                when = local_to_utc(day, clock, zone)
            except LocalTimeError:
                continue
            if start <= when < end:
                yield when, datetime.combine(day, clock)
        day += timedelta(days=1)


# reading the queue -----------------------------------------------------------------------------


def project_slots(project: Project, start: datetime, end: datetime):
    return (
        PlannedSlot.objects.alive()
        .filter(project=project, scheduled_for__gte=start, scheduled_for__lt=end)
        .select_related("queue_entry", "note")
        .order_by("scheduled_for", "id")
    )


def earliest(now: datetime) -> datetime:
    """The first moment the planning rules allow (a minute of slack for the request)."""
    return now + MIN_LEAD + timedelta(minutes=1)


def positions(project: Project, *, now: datetime | None = None) -> Iterator[QueueTime]:
    """The project's schedule times from the earliest plannable moment to the planning
    horizon, each with what holds it; read a few weeks at a time, as far as the caller goes."""
    now = now or timezone.now()
    schedule = schedule_of(project)
    if not schedule:
        return
    zone = project.workspace.zone
    start, horizon = earliest(now), add_months(now, MAX_AHEAD_MONTHS)
    while start < horizon:
        end = min(start + CHUNK, horizon)
        held: dict[datetime, list[PlannedSlot]] = {}
        for slot in project_slots(project, start, end):
            held.setdefault(slot.scheduled_for, []).append(slot)
        for when, local in schedule_times(schedule, zone, start, end):
            if schedule_problem(when, now) is None:
                yield QueueTime(when, local, held.get(when, []))
        start = end


def queued_slots(project: Project, *, now: datetime | None = None):
    """The project's queued posts still ahead, as a query in queue order (their times): the
    queue page reads it, and the REST API pages through it."""
    start = earliest(now or timezone.now())
    return (
        PlannedSlot.objects.alive()
        .filter(
            project=project,
            queue_entry__isnull=False,
            status__in=QUEUE_MOVABLE_STATUSES,
            scheduled_for__gte=start,
        )
        .order_by("scheduled_for", "id")
    )


def queued_posts(project: Project, *, now: datetime | None = None) -> list[PlannedSlot]:
    """The project's queued posts still ahead, in queue order (their times)."""
    return list(queued_slots(project, now=now).select_related("queue_entry", "note"))


def off_schedule(
    project: Project, *, now: datetime | None = None, schedule: list | None = None
) -> list[PlannedSlot]:
    """Queued posts that sit at no schedule time (the schedule changed under them);
    `schedule` when the caller has read it already."""
    queued = queued_posts(project, now=now)
    if not queued:
        return []
    zone = project.workspace.zone
    on = set(schedule if schedule is not None else schedule_of(project))
    result = []
    for slot in queued:
        local = slot.scheduled_for.astimezone(zone)
        if (local.weekday(), local.time().replace(tzinfo=None)) not in on:
            result.append(slot)
    return result


# changing the queue ----------------------------------------------------------------------------


def _lock(project: Project) -> None:
    """Queue changes of one project wait for each other (PostgreSQL: the project's row;
    SQLite's transactions are serial already)."""
    Project.objects.select_for_update().filter(pk=project.pk).values_list("pk").first()


def _no_schedule(project: Project) -> Refusal:
    return Refusal(
        fields={
            "queue": _(
                "%(project)s has no posting schedule yet; a manager sets one on its queue page."
            )
            % {"project": project.name}
        }
    )


def may_reorder(viewer: Viewer, workspace_id: int) -> bool:
    """Whether the person may give queued posts other times: drag them on the queue page, or
    put a post at the top of the queue, which moves every queued post after it one time
    later. Those are other people's plans and drafts waiting for review, so it is a
    manager's call; anyone who plans may add to the end of the queue, which moves nobody."""
    return viewer.can(Role.MANAGER, workspace_id)


@dataclass
class Queued:
    """What `queue_add` did: the post it planned, and how many queued posts moved one
    schedule time later to make room for it (top of queue)."""

    slot: PlannedSlot
    moved: int = 0


def queue_add(
    *,
    user,
    project: Project | None,
    top: bool = False,
    request_key: str = "",
    now: datetime | None = None,
    **fields,
) -> Queued:
    """Plans a post at the project's next free schedule time (`top`: at the first schedule
    time, the queued posts from there on moving down one time each, up to the first free
    one; a manager's, `may_reorder`). Every slot rule applies, through `services.slot_create`
    (fields as it takes them, without a day and time); the same `request_key` twice plans
    one post, and moves nothing the second time."""
    if project is None:
        raise Refusal(fields={"project": _("Choose a project.")})
    if not project.is_active:
        raise Refusal(fields={"project": project.inactive_reason})
    if top and not may_reorder(viewer_of(user), project.workspace_id):
        raise Refusal(
            fields={
                "queue": _(
                    "Only a manager can put a post at the top of the queue, since the "
                    "queued posts after it move one time later. Add it to the queue instead."
                )
            },
            status=403,
        )
    with transaction.atomic():
        _lock(project)
        if request_key and (
            earlier := PlannedSlot.objects.filter(
                workspace_id=project.workspace_id, request_key=request_key
            ).first()
        ):
            return Queued(earlier)
        if not project.schedule_times.exists():
            raise _no_schedule(project)
        moved = 0
        if top:
            target, moved = _shift_down(project, now)
        else:
            target = _first_free(project, now)
        if target is None:
            raise Refusal(
                fields={
                    "queue": _("The queue is full for the next %(months)s months.")
                    % {"months": MAX_AHEAD_MONTHS}
                }
            )
        slot = services.slot_create(
            user=user,
            zone=project.workspace.zone,
            request_key=request_key,
            project=project,
            day=target.local.date(),
            clock=target.local.time(),
            **fields,
        )
        QueueEntry.objects.get_or_create(slot=slot)
    return Queued(slot, moved)


def first_free(project: Project, *, now: datetime | None = None) -> QueueTime | None:
    """The schedule time the next queued post would take (None: no schedule, or full)."""
    if not project.schedule_times.exists():
        return None
    return _first_free(project, now)


def _first_free(project: Project, now: datetime | None) -> QueueTime | None:
    return next((t for t in positions(project, now=now) if t.is_free), None)


def _shift_down(project: Project, now: datetime | None) -> tuple[QueueTime | None, int]:
    """Moves the queued posts at the first open schedule times down one each, up to the
    first free time; returns the first time, now free for the new post, and how many posts
    moved ((None, 0): no free time to move them to)."""
    chain: list[QueueTime] = []
    for position in positions(project, now=now):
        if position.is_fixed:
            continue
        chain.append(position)
        if position.is_free:
            break
    else:
        return None, 0
    moved = 0
    # Last first, so every post moves onto a time already left (no two share one meanwhile).
    for here, there in reversed(list(pairwise(chain))):
        for slot in here.slots:
            slot.queue_move(there.when, expected=here.when)
            moved += 1
    return chain[0], moved


def queue_reorder(*, project: Project, order: list[str], now: datetime | None = None) -> int:
    """Gives the queued posts named (public ids, as the queue page lists them) the times
    they hold between them, in the order given: a drag on the queue page. The set of times
    is the one they held, so none is lost or doubled; a post that is no longer queued (it
    was approved, deleted, or its time passed) refuses the change, nothing moves and the
    page is told to refresh. Returns how many posts moved."""
    with transaction.atomic():
        _lock(project)
        by_id = {str(slot.public_id): slot for slot in queued_posts(project, now=now)}
        if not order or len(set(order)) != len(order) or not set(order) <= set(by_id):
            raise Refusal(
                _("The queue changed meanwhile; it now shows as it is, try again."), stale=True
            )
        times = sorted(by_id[public_id].scheduled_for for public_id in order)
        moved = 0
        # Conditional on the time each was read at: a post that moved meanwhile refuses it all.
        for public_id, when in zip(order, times, strict=True):
            slot = by_id[public_id]
            if slot.scheduled_for != when:
                slot.queue_move(when, expected=slot.scheduled_for)
                moved += 1
        return moved


def queue_reflow(*, project: Project, now: datetime | None = None) -> int:
    """Puts the project's queued posts, in their order, at the first schedule times not
    held by other posts (after the schedule changed). Returns how many moved."""
    with transaction.atomic():
        _lock(project)
        queued = queued_posts(project, now=now)
        if not queued:
            return 0
        if not project.schedule_times.exists():
            raise _no_schedule(project)
        ours = {slot.pk for slot in queued}
        targets: list[datetime] = []
        for position in positions(project, now=now):
            if any(slot.pk not in ours for slot in position.slots):
                continue
            targets.append(position.when)
            if len(targets) == len(queued):
                break
        moved = 0
        for slot, when in zip(queued, targets, strict=False):
            if slot.scheduled_for != when:
                slot.queue_move(when, expected=slot.scheduled_for)
                moved += 1
        return moved


def schedule_form_values(schedule: list[tuple[int, time]]) -> dict[str, str]:
    """The schedule as the page's fields show it: one line of times per weekday."""
    days: dict[int, list[str]] = {d: [] for d, _ in WEEKDAY_CHOICES}
    for weekday, clock in schedule:
        days[weekday].append(f"{clock:%H:%M}")
    return {f"day_{d}": ", ".join(times) for d, times in days.items()}
