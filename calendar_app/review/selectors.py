"""What the review screen reads: the drafts waiting for a manager (filtered), the one it
opens, and the count in the menu; `review_screen` puts them together as the screen shows them."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from django.db.models import F, FilteredRelation, Q
from django.db.models.functions import Left
from django.http import QueryDict
from django.utils.http import urlencode

from calendar_app.access import Viewer
from calendar_app.core.calendar_grid import parse_day
from calendar_app.models import (
    REVIEW_STATUSES,
    GenerationJob,
    PlannedSlot,
    Project,
    ReviewLink,
    SlotEvent,
    SlotStatus,
)
from calendar_app.planning import selectors as planning
from calendar_app.planning.live import EpochMicros, from_micros
from calendar_app.planning.selectors import bare_instance, within_days
from calendar_app.review import guests
from calendar_app.review.services import draft_changes, self_approval_refusal

# How much of a draft the review queue's list loads for its first line.
REVIEW_ITEM_HEAD_CHARS = 400


def review_queue(
    viewer: Viewer,
    *,
    projects: list[Project],
    project_scripe_id: str = "",
    date_from: date | None = None,
    date_to: date | None = None,
    label_id: str = "",
) -> list[PlannedSlot]:
    """Drafts waiting for this viewer as a manager, soonest first, as the queue's list shows
    them: their time, status, project (from `projects`, the page's managed projects), and the
    current draft's title and first line (`post_title`, `first_line`), in one query of plain
    values, made without `Model.__init__` (see `card_rows`). The draft the page opens is read
    in full by `review_draft`."""
    slots = PlannedSlot.objects.alive().filter(
        workspace_id__in=viewer.managed_workspace_ids, status__in=REVIEW_STATUSES
    )
    if project_scripe_id:
        slots = slots.filter(project__scripe_id=project_scripe_id)
    if label_id:
        slots = slots.filter(labels__public_id=label_id)  # (#15)
    slots = within_days(slots, viewer, date_from, date_to).order_by("scheduled_for", "id")
    names = ("id", "public_id", "workspace_id", "project_id", "status")
    by_id = {p.pk: p for p in projects}
    project_field = PlannedSlot._meta.get_field("project")
    db = slots.db
    queue = []
    rows = slots.annotate(
        scheduled_micros=EpochMicros("scheduled_for"),
        current=FilteredRelation("jobs", condition=Q(jobs__is_current=True)),
        draft_title=F("current__post_title"),
        draft_head=Left("current__post_content", REVIEW_ITEM_HEAD_CHARS),
    )
    columns = (*names, "scheduled_micros", "draft_title", "draft_head")
    for *values, micros, title, head in rows.values_list(*columns):
        slot = bare_instance(PlannedSlot, dict(zip(names, values, strict=True)), db)
        slot.scheduled_for = from_micros(micros)
        slot.post_title = title or ""
        slot.first_line = first_line(head or "")
        if slot.project_id in by_id:
            project_field.set_cached_value(slot, by_id[slot.project_id])
        queue.append(slot)
    return queue


def first_line(text: str, limit: int = 90) -> str:
    """A draft's first line that has words, cut at a word to about `limit` characters."""
    line = next((part.strip() for part in text.splitlines() if part.strip()), "")
    if len(line) <= limit:
        return line
    return line[:limit].rsplit(" ", 1)[0].rstrip(" ,;:.") + "…"


def review_draft(viewer: Viewer, public_id) -> tuple[PlannedSlot | None, list[GenerationJob]]:
    """A draft as the review panel shows it: the slot with its project and note, its current
    attempt (`current_job`), and its earlier drafts, newest first; two queries. Its workspace
    comes along (its review rules decide what the panel offers)."""
    slot = (
        PlannedSlot.objects.alive()
        .filter(workspace_id__in=viewer.workspace_ids, public_id=public_id)
        .select_related("project", "note", "workspace")
        .first()
    )
    if slot is None:
        return None, []
    jobs = list(slot.jobs.order_by("-attempt"))
    slot.current_jobs = [job for job in jobs if job.is_current]
    return slot, [job for job in jobs if not job.is_current and job.post_content]


def review_count(viewer: Viewer) -> int | None:
    """Drafts waiting for this manager (None for editors: no query, no badge)."""
    if not viewer.managed_workspace_ids:
        return None
    return (
        PlannedSlot.objects.alive()
        .filter(workspace_id__in=viewer.managed_workspace_ids, status__in=REVIEW_STATUSES)
        .count()
    )


# The screen ------------------------------------------------------------------------------------

# The list shows the soonest drafts; filters narrow it when more wait.
LISTED = 100


@dataclass(frozen=True)
class ReviewFilters:
    """The queue's filters, read from the query string: a value that makes no sense is
    dropped, so a hand-edited address shows the whole queue rather than an error."""

    project: str = ""  # a project's Scripe id
    label: str = ""  # a label's public id (#15)
    date_from: date | None = None
    date_to: date | None = None

    @classmethod
    def of(cls, query: QueryDict) -> ReviewFilters:
        project, label = query.get("project", ""), query.get("label", "")
        return cls(
            project=project if project.isprintable() and len(project) <= 80 else "",
            label=label if re.fullmatch(r"[0-9a-fA-F-]{32,36}", label) else "",
            date_from=parse_day(query.get("date_from", "")),
            date_to=parse_day(query.get("date_to", "")),
        )

    def shown(self) -> dict[str, str]:
        """Each filter as the form shows it (empty for none)."""
        values = {
            "project": self.project,
            "label": self.label,
            "date_from": self.date_from,
            "date_to": self.date_to,
        }
        return {k: v.isoformat() if isinstance(v, date) else v or "" for k, v in values.items()}

    def query(self, *, slot=None) -> str:
        """The filters as a query string, with the draft to open when `slot` is given: every
        link and decision of the screen carries it, so the next draft it opens is the next one
        of the filtered queue."""
        params = {k: v for k, v in self.shown().items() if v}
        if slot is not None:
            params["slot"] = str(slot.public_id)
        return urlencode(params)

    def __bool__(self) -> bool:
        return any(self.shown().values())


@dataclass
class ReviewScreen:
    """The review screen as a manager sees it: the filtered queue (what its list shows of
    each draft), the draft it opens, read in full with what the panel needs, and the menu's
    count."""

    filters: ReviewFilters
    projects: list[Project]
    slots: list[PlannedSlot]
    selected: PlannedSlot | None = None
    earlier_drafts: list[GenerationJob] = field(default_factory=list)
    events: list[SlotEvent] = field(default_factory=list)
    links: list[ReviewLink] = field(default_factory=list)
    approve_refusal: str = ""
    waiting: int = 0

    @property
    def listed(self) -> list[PlannedSlot]:
        return self.slots[:LISTED]

    @property
    def job(self) -> GenerationJob | None:
        return self.selected.current_job if self.selected is not None else None

    @property
    def changes(self):
        return draft_changes(self.job, self.earlier_drafts)


def review_screen(
    viewer: Viewer, filters: ReviewFilters, *, selected_id=None, after=None
) -> ReviewScreen:
    """The queue filtered, and the draft to open: the one asked for if it is in the queue,
    else (after a decision: `after` is the handled draft's place) the one that came after
    the handled one, else the first."""
    projects = list(planning.managed_projects(viewer))
    slots = review_queue(
        viewer,
        projects=projects,
        project_scripe_id=filters.project,
        date_from=filters.date_from,
        date_to=filters.date_to,
        label_id=filters.label,
    )
    screen = ReviewScreen(filters=filters, projects=projects, slots=slots)
    selected = None
    if selected_id is not None:
        selected = next((s for s in slots if str(s.public_id) == str(selected_id)), None)
    if selected is None and after is not None:
        # The draft just handled has left the queue: open the one that came after it.
        later = [s for s in slots if (s.scheduled_for, s.pk) > after]
        selected = later[0] if later else (slots[0] if slots else None)
    if selected is None and slots:
        selected = slots[0]
    if selected is not None:
        # The queue holds what its list shows; the open draft is read in full.
        draft, screen.earlier_drafts = review_draft(viewer, selected.public_id)
        selected = draft or selected
        screen.events = list(planning.slot_events(selected))
        screen.links = guests.live_links(selected)
    screen.selected = selected
    job = screen.job
    if job is not None and selected.status == SlotStatus.IN_REVIEW:
        screen.approve_refusal = self_approval_refusal(selected, job, viewer.user, screen.events)
    # The menu's count is the queue's length when nothing filters it (no query for it).
    screen.waiting = review_count(viewer) if filters else len(slots)
    return screen
