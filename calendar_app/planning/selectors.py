"""Reads: what a viewer may see, in which window, with which filters.

Views ask here and never build a cross-cutting query themselves; writes live in services.
Every slot query is bounded to the viewer's workspaces and to live slots (`visible_slots`
for what a page shows in full, `card_slots` and `card_rows` for the cheaper rows cards and
the list need), and every window of days is bounded by `utc_bounds` in the viewer's zone.
Also here: labels, projects and notes a viewer may pick, the queue page, the at-risk filter.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.core.exceptions import ValidationError
from django.db.models import F, FilteredRelation, Prefetch, Q, QuerySet
from django.db.models.base import ModelState
from django.db.models.functions import Left
from django.utils import timezone

from calendar_app.access import Viewer
from calendar_app.core.calendar_grid import utc_bounds
from calendar_app.models import (
    IN_FLIGHT_STATUSES,
    GenerationJob,
    Label,
    PlannedSlot,
    Project,
    ScheduleTime,
    Series,
    SeriesOccurrence,
    SlotEvent,
    SlotQuerySet,
    SlotStatus,
    SourceNote,
)
from calendar_app.models.slots import CURRENT_ATTEMPT
from calendar_app.planning.at_risk import at_risk_condition
from calendar_app.planning.live import EpochMicros, from_micros
from calendar_app.planning.queue import (
    QueueTime,
    describe_schedule,
    earliest,
    is_queued,
    off_schedule,
    project_slots,
    schedule_of,
    schedule_times,
)
from calendar_app.planning.scheduling import (
    schedule_problem,
)

# The note picker offers recent notes only, so it stays short in a workspace with years of them.
RECENT_NOTES = timedelta(days=90)
# How much of a note a card query loads: its excerpt needs 60 characters after spaces are
# collapsed, and a note may be a 100,000-character transcript.
NOTE_HEAD_CHARS = 1000
# Columns a card never reads (each datetime costs a parse per row).
CARD_SLOT_UNUSED = (
    "request_key",
    "status_changed_at",
    "created_at",
    "note__text",
    "note__created_at",
    "project__synced_at",
    "project__linkedin_url",
)
CARD_JOB_UNUSED = (
    "post_title",
    "post_content",
    "steering",
    "idempotency_key",
    "created_at",
    "accepted_at",
    "started_at",
    "lease_until",
)
# The states in which a card shows its attempt: progress while in flight, the reason it failed.
CARD_JOB_STATUSES = frozenset({*IN_FLIGHT_STATUSES, SlotStatus.FAILED})


def visible_slots(viewer: Viewer) -> SlotQuerySet:
    """Every live slot in the viewer's workspaces, with what its card shows, in time order."""
    return (
        PlannedSlot.objects.alive()
        .for_cards()
        .filter(workspace_id__in=viewer.workspace_ids)
        .order_by("scheduled_for", "id")
    )


def card_slots(viewer: Viewer) -> SlotQuerySet:
    """`visible_slots` for cards and list rows, without what they never show (profiling put
    building these rows at half a month's time): the note is read up to its head
    (`note_head`, which the `card_excerpt` filter uses, since a note may be a long
    transcript), and `current_job` is the current attempt without its post (a card shows
    it in flight and failed). Anything that shows a note, an attempt or a draft in full reads
    the slot with `access.slot_visible_to`.

    The attempt is joined into the slot's row, not prefetched: a second query may see a
    later state than the first (PostgreSQL gives each statement its own snapshot), so a slot
    read as generating whose attempt was read after it finished came without one, and its
    card failed (#24, item 11). One row is one moment."""
    return (
        PlannedSlot.objects.alive()
        .filter(workspace_id__in=viewer.workspace_ids)
        .with_current_attempt()
        .select_related("project", "note")
        .defer(*CARD_SLOT_UNUSED, *(f"{CURRENT_ATTEMPT}__{name}" for name in CARD_JOB_UNUSED))
        .annotate(note_head=Left("note__text", NOTE_HEAD_CHARS))
        .prefetch_related(Prefetch("labels", queryset=LABELS_SHOWN))
        .order_by("scheduled_for", "id")
    )


# A card's labels (#15), in the order it shows them.
LABELS_SHOWN = Label.objects.only("id", "name", "colour").order_by("name", "id")


def attach_labels(slots: list[PlannedSlot]) -> None:
    """Sets `label_chips` ((name, colour), in name order) on each slot: one query for a
    page of cards, whatever their number (none for an empty page)."""
    chips: dict[int, list[tuple[str, int]]] = {}
    if slots:
        rows = (
            Label.slots.through.objects.filter(plannedslot_id__in=[s.pk for s in slots])
            .order_by("label__name", "label_id")
            .values_list("plannedslot_id", "label__name", "label__colour")
        )
        for slot_id, name, colour in rows:
            chips.setdefault(slot_id, []).append((name, colour))
    for slot in slots:
        slot.label_chips = tuple(chips.get(slot.pk, ()))


# What a calendar card reads of its slot, its note and its current attempt (slot_card.html,
# `cards.card_key`), by the attribute it is read as. `card_rows` loads exactly these; the
# moments as integers (`EpochMicros`).
CARD_ROW_SLOT = (
    "id",
    "public_id",
    "workspace_id",
    "project_id",
    "note_id",
    "status",
    "status_note",
    "status_note_params",
    "scripe_warning",
    "scripe_warning_params",
)
CARD_ROW_SLOT_MOMENTS = {
    "scheduled_for": "scheduled_for",
    "updated_at": "updated_at",
    "published_at": "published_at",
    "note_updated_at": "note__updated_at",
}
CARD_ROW_JOB = (
    "id",
    "attempt",
    "progress",
    "progress_message",
    "scripe_job_id",
    "error_code",
    "error_message",
    "error_params",
    "retry_reason",
    "stalled",
)
CARD_ROW_JOB_MOMENTS = ("submitted_at", "completed_at", "next_poll_at")


def card_rows(
    viewer: Viewer,
    first: date,
    last: date,
    *,
    projects: list[Project],
    project: Project | None = None,
    label: Label | None = None,
    status: str = "",
) -> list[PlannedSlot]:
    """The slots on local days first..last for a calendar page, as `slots_between` gives
    them but built for speed: one query of plain values (the current attempt joined, kept
    only where a card shows it), the projects taken from `projects` (the page's own list), and
    instances made the way unpickling makes them, without running `Model.__init__`, which
    profiling found was most of a 300-post page's time. They are full model instances for
    everything a card reads (`CARD_ROW_*`, `note_head`, the current attempt); any other field
    is fetched when read, as with `.only()`, so a card that starts reading more shows up as
    queries, not as blanks."""
    start, end = utc_bounds(first, last, viewer.zone)
    rows = (
        PlannedSlot.objects.alive()
        .filter(workspace_id__in=viewer.workspace_ids, scheduled_for__gte=start)
        .filter(scheduled_for__lt=end)
    )
    if project is not None:
        rows = rows.filter(project=project)
    if label is not None:
        rows = rows.filter(labels=label)
    rows = with_status(rows, viewer, status)
    rows = rows.annotate(
        current=FilteredRelation("jobs", condition=Q(jobs__is_current=True)),
        note_head=Left("note__text", NOTE_HEAD_CHARS),
        **{f"m_{name}": EpochMicros(path) for name, path in CARD_ROW_SLOT_MOMENTS.items()},
        **{f"job_{name}": F(f"current__{name}") for name in CARD_ROW_JOB},
        **{f"job_m_{name}": EpochMicros(f"current__{name}") for name in CARD_ROW_JOB_MOMENTS},
    ).order_by("scheduled_for", "id")
    columns = (
        *CARD_ROW_SLOT,
        "note_head",
        *(f"m_{name}" for name in CARD_ROW_SLOT_MOMENTS),
        *(f"job_{name}" for name in CARD_ROW_JOB),
        *(f"job_m_{name}" for name in CARD_ROW_JOB_MOMENTS),
    )
    slot_names = (*CARD_ROW_SLOT, "note_head")
    moments_at = len(slot_names)
    job_at = moments_at + len(CARD_ROW_SLOT_MOMENTS)
    job_moments_at = job_at + len(CARD_ROW_JOB)
    by_id = {p.pk: p for p in projects}
    project_field = PlannedSlot._meta.get_field("project")
    db = rows.db
    slots = []
    for values in rows.values_list(*columns):
        # zip() stops at the shorter: the names say which leading values are the slot's.
        fields = dict(zip(slot_names, values, strict=False))
        moments = map(from_micros, values[moments_at:job_at])
        fields.update(zip(CARD_ROW_SLOT_MOMENTS, moments, strict=True))
        fields["current_jobs"] = []
        slot = bare_instance(PlannedSlot, fields, db)
        if values[job_at] is not None and slot.status in CARD_JOB_STATUSES:
            job = dict(zip(CARD_ROW_JOB, values[job_at:job_moments_at], strict=True))
            moments = map(from_micros, values[job_moments_at:])
            job.update(zip(CARD_ROW_JOB_MOMENTS, moments, strict=True))
            job.update(slot_id=slot.id, is_current=True)
            slot.current_jobs.append(bare_instance(GenerationJob, job, db))
        if slot.project_id in by_id:
            project_field.set_cached_value(slot, by_id[slot.project_id])
        slots.append(slot)
    attach_labels(slots)
    return slots


def bare_instance(model, values: dict, db: str):
    """An instance of `model` whose attributes are `values` (the dict itself), made as
    unpickling makes one (`Model.__reduce__`): no `__init__`, no signals, no defaults. For
    reading only."""
    instance = model.__new__(model)
    state = values["_state"] = ModelState()
    state.adding, state.db = False, db
    instance.__dict__ = values
    return instance


def slots_between(
    viewer: Viewer, first: date, last: date, *, project: Project | None = None
) -> list[PlannedSlot]:
    """The slots on local days first..last (inclusive) in the viewer's zone."""
    start, end = utc_bounds(first, last, viewer.zone)
    slots = card_slots(viewer).filter(scheduled_for__gte=start, scheduled_for__lt=end)
    if project is not None:
        slots = slots.filter(project=project)
    return list(slots)


def slots_filtered(viewer: Viewer, data: dict) -> SlotQuerySet:
    """`slots_matching` for the cleaned data of a valid SlotFilterForm: what All posts shows,
    what its live poll follows, and what "select all matching the filter" acts on."""
    return slots_matching(
        viewer,
        text=data["q"],
        project=data["project"],
        status=data["status"],
        date_from=data["date_from"],
        date_to=data["date_to"],
        label=data.get("label"),
    )


def slots_matching(
    viewer: Viewer,
    *,
    text: str = "",
    project: Project | None = None,
    status: str = "",
    date_from: date | None = None,
    date_to: date | None = None,
    label: Label | None = None,
) -> SlotQuerySet:
    """The list view's filter: words in the note or project name, a project, a status, a
    label, and local days from..to (either end open)."""
    slots = card_slots(viewer)
    if text:
        slots = slots.filter(Q(note__text__icontains=text) | Q(project__name__icontains=text))
    if project is not None:
        slots = slots.filter(project=project)
    slots = with_status(slots, viewer, status)
    if label is not None:
        slots = slots.filter(labels=label)
    return within_days(slots, viewer, date_from, date_to)


# What a status filter offers: "At risk" (#18) first, not a status but filtering like one.
AT_RISK = "at_risk"
STATUS_FILTERS = [(AT_RISK, "At risk"), *SlotStatus.choices]


def with_status(slots: QuerySet, viewer: Viewer, status: str) -> QuerySet:
    """`slots` in `status`, or, for "at_risk" (#18), likely to miss their time (two queries
    for the usual times, see `at_risk.at_risk_condition`). Any other value filters nothing:
    a calendar ignores a status it does not know, as it does a project."""
    if status == AT_RISK:
        return slots.filter(at_risk_condition([m.workspace for m in viewer.memberships]))
    if status in SlotStatus.values:
        return slots.filter(status=status)
    return slots


def calendar_window(
    viewer: Viewer,
    first: date,
    last: date,
    *,
    project_scripe_id: str = "",
    label_id: str = "",
    status: str = "",
) -> SlotQuerySet:
    """The cards of a calendar page (local days first..last, maybe one project, label or
    status), as a query the live endpoint narrows to what changed."""
    start, end = utc_bounds(first, last, viewer.zone)
    slots = card_slots(viewer).filter(scheduled_for__gte=start, scheduled_for__lt=end)
    if project_scripe_id:
        slots = slots.filter(project__scripe_id=project_scripe_id)
    if label_id:
        slots = slots.filter(labels__public_id=label_id)
    return with_status(slots, viewer, status)


def times_taken(project_ids: list[int], start: datetime, end: datetime) -> set[tuple]:
    """(project id, time) of every live post of these projects in [start, end): which
    posting-schedule times are taken, whatever a page's filter shows."""
    rows = PlannedSlot.objects.alive().filter(
        project_id__in=project_ids, scheduled_for__gte=start, scheduled_for__lt=end
    )
    return set(rows.values_list("project_id", "scheduled_for"))


def slots_changed_since(viewer: Viewer, since, *, recheck=(), limit: int = 200) -> list[tuple]:
    """(pk, public_id) of the slots in the viewer's workspaces written after `since`,
    deleted ones included (a deletion is a change), and of the `recheck` slots whatever
    their time. One query on the (workspace, updated_at) index; at most `limit` + 1 rows,
    so a caller can tell "too many to list"."""
    condition = Q(updated_at__gt=since)
    if recheck:
        condition |= Q(public_id__in=set(recheck))
    rows = PlannedSlot.objects.filter(condition, workspace_id__in=viewer.workspace_ids)
    return list(rows.values_list("pk", "public_id", "updated_at")[: limit + 1])


def slot_events(slot: PlannedSlot):
    return SlotEvent.objects.filter(slot=slot).select_related("actor")


def labels_in(workspace_ids) -> QuerySet[Label]:
    """The labels of these workspaces, by name."""
    return Label.objects.filter(workspace_id__in=list(workspace_ids))


def visible_labels(viewer: Viewer) -> QuerySet[Label]:
    return labels_in(viewer.workspace_ids)


def label_in(workspace_id: int, public_id: str) -> Label | None:
    """The workspace's label with this public id; None for none, or for what is no id at all
    (a page shows everything rather than fail on a hand-edited address)."""
    if not public_id:
        return None
    try:
        return labels_in([workspace_id]).filter(public_id=public_id).first()
    except ValidationError:
        return None


def schedule_entries(projects: list[Project]) -> QuerySet[ScheduleTime]:
    """The posting-schedule times of these projects (the week grid's faint empty slots)."""
    return ScheduleTime.objects.filter(project__in=[p.pk for p in projects])


def series_occurrences(series: Series) -> QuerySet[SeriesOccurrence]:
    return series.occurrences.select_related("slot").order_by("index")


def series_planned_count(series: Series) -> int:
    """How many of the series' occurrences are planned posts already."""
    return series.occurrences.exclude(slot=None).count()


def occurrence_of(slot: PlannedSlot) -> SeriesOccurrence | None:
    """The series occurrence a slot is, with its series' note; None for a post of its own."""
    return SeriesOccurrence.objects.filter(slot=slot).select_related("series__note").first()


def visible_projects(viewer: Viewer):
    return Project.objects.filter(workspace_id__in=viewer.workspace_ids).select_related("workspace")


def managed_projects(viewer: Viewer):
    return Project.objects.filter(workspace_id__in=viewer.managed_workspace_ids)


def plannable_projects(viewer: Viewer):
    """Projects the viewer may plan posts for (inactive ones are listed, with the reason)."""
    return Project.objects.filter(workspace_id__in=viewer.editable_workspace_ids).select_related(
        "workspace"
    )


def recent_notes(viewer: Viewer):
    return SourceNote.objects.filter(
        workspace_id__in=viewer.editable_workspace_ids,
        created_at__gte=timezone.now() - RECENT_NOTES,
    )


def within_days(slots, viewer: Viewer, first: date | None, last: date | None):
    if first is not None:
        slots = slots.filter(scheduled_for__gte=utc_bounds(first, first, viewer.zone)[0])
    if last is not None:
        slots = slots.filter(scheduled_for__lt=utc_bounds(last, last, viewer.zone)[1])
    return slots


@dataclass
class QueuePage:
    project: Project
    schedule: list[tuple[int, time]]
    times: list[QueueTime]
    off_schedule: list[PlannedSlot]

    @property
    def schedule_text(self) -> str:
        return describe_schedule(self.schedule)

    @property
    def queued_count(self) -> int:
        return sum(1 for t in self.times if t.slot is not None and is_queued(t.slot))


def queue_page(
    project: Project, *, days: int = 28, label: Label | None = None, now: datetime | None = None
) -> QueuePage:
    """The queue page's read: the schedule, its times over the next `days` days with what
    holds each (labels prefetched), and queued posts off the schedule. A fixed number of
    queries, whatever the number of posts: the schedule, the window's posts, their labels,
    the queued posts (`queue.off_schedule`)."""
    now = now or timezone.now()
    schedule = schedule_of(project)
    zone = project.workspace.zone
    start = earliest(now)
    end = start + timedelta(days=days)
    slots = project_slots(project, start, end).prefetch_related(
        Prefetch("labels", queryset=Label.objects.order_by("name", "id"))
    )
    held: dict[datetime, list[PlannedSlot]] = {}
    all_slots = list(slots)
    for slot in all_slots:
        # With a label filter, other posts still hold their times; the page says so.
        slot.matches = label is None or any(lb.pk == label.pk for lb in slot.labels.all())
        held.setdefault(slot.scheduled_for, []).append(slot)
    times = [
        QueueTime(when, local, held.get(when, []))
        for when, local in schedule_times(schedule, zone, start, end)
        if schedule_problem(when, now) is None
    ]
    # Off the schedule by the one rule the schedule's save also counts with.
    return QueuePage(project, schedule, times, off_schedule(project, now=now, schedule=schedule))
