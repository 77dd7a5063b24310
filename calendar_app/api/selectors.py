"""Reads for the API: the pages' selectors, with what the API's representations show in
full (the note's text, the draft, the labels' ids, the workspace)."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from calendar_app.access import Viewer
from calendar_app.models import (
    REVIEW_STATUSES,
    HookPlan,
    Idea,
    Label,
    Membership,
    Notification,
    PlannedSlot,
    Project,
    Series,
    SlotEvent,
    SlotQuerySet,
    Source,
    SourceNote,
)
from calendar_app.planning import queue, selectors


def posts(viewer: Viewer, **filters) -> SlotQuerySet:
    """`selectors.slots_matching` (All posts' filter: text, project, status or at risk,
    label, local days), with every column the post's representation reads: two queries a
    page, whatever its size."""
    return (
        selectors.slots_matching(viewer, **filters)
        .defer(None)
        .select_related("workspace")
        .prefetch_related(None)
        .prefetch_related(Prefetch("labels", queryset=Label.objects.order_by("name", "id")))
    )


def post(viewer: Viewer, public_id) -> object | None:
    return posts(viewer).filter(public_id=public_id).first()


def memberships(viewer: Viewer) -> QuerySet[Membership]:
    """The viewer's workspaces (a token's: its one), with their role in each."""
    return Membership.objects.filter(
        user=viewer.user, workspace_id__in=viewer.workspace_ids
    ).select_related("workspace")


def projects(viewer: Viewer) -> QuerySet[Project]:
    return selectors.visible_projects(viewer)


def labels(viewer: Viewer) -> QuerySet[Label]:
    return Label.objects.filter(workspace_id__in=viewer.workspace_ids)


def labels_named(viewer: Viewer, public_ids) -> tuple[list[Label], list[str]]:
    """The viewer's labels with these ids, and the ids that are none of them."""
    found = list(labels(viewer).filter(public_id__in=list(public_ids)))
    known = {str(label.public_id) for label in found}
    return found, [str(i) for i in public_ids if str(i) not in known]


def note_of(viewer: Viewer, public_id) -> SourceNote | None:
    return SourceNote.objects.filter(
        workspace_id__in=viewer.editable_workspace_ids, public_id=public_id
    ).first()


def review_queue(viewer: Viewer, **filters) -> SlotQuerySet:
    """The review page's queue (drafts waiting for a manager: in review, or missed their
    time; in the workspaces the viewer manages), with its filters (project, label, local
    days), read as `posts` reads them."""
    return posts(viewer, **filters).filter(
        workspace_id__in=viewer.managed_workspace_ids, status__in=REVIEW_STATUSES
    )


def queued(viewer: Viewer, project: Project) -> SlotQuerySet:
    """The project's queued posts still ahead, in queue order (`queue.queued_slots`), read
    as `posts` reads them: one query for the posts, one for their labels."""
    return posts(viewer).filter(pk__in=queue.queued_slots(project).values("pk"))


def series(viewer: Viewer) -> QuerySet[Series]:
    """The viewer's series, ended ones too, with what their representation shows."""
    return (
        Series.objects.filter(workspace_id__in=viewer.workspace_ids)
        .select_related("project", "note", "workspace")
        .prefetch_related(Prefetch("labels", queryset=Label.objects.order_by("name", "id")))
    )


def trail(slot) -> QuerySet[SlotEvent]:
    """The post's activity trail (`planning.selectors.slot_events`)."""
    return selectors.slot_events(slot)


def notifications(viewer: Viewer) -> QuerySet[Notification]:
    """The viewer's notifications about the workspaces they see (a token: its one), with
    what links them to a post."""
    return Notification.objects.filter(
        user=viewer.user, workspace_id__in=viewer.workspace_ids
    ).select_related("slot")


def ideas(viewer: Viewer, *, state: str = "", project: Project | None = None) -> QuerySet[Idea]:
    """The ideas of the viewer's workspaces (the board's), with their project, owner, labels,
    source and the live posts made from them: four queries a page."""
    found = Idea.objects.filter(workspace_id__in=viewer.workspace_ids)
    if state:
        found = found.filter(state=state)
    if project is not None:
        found = found.filter(project=project)
    posts = (
        PlannedSlot.objects.alive()
        .only("pk", "public_id", "idea_id")
        .order_by("scheduled_for", "id")
    )
    return found.select_related("workspace", "project", "owner", "source").prefetch_related(
        Prefetch("labels", queryset=Label.objects.order_by("name", "id")),
        Prefetch("slots", queryset=posts, to_attr="posts"),
    )


def sources(viewer: Viewer) -> QuerySet[Source]:
    """The sources of the viewer's workspaces, with their planned hooks' posts: three
    queries a page."""
    plans = HookPlan.objects.select_related("slot").only("source_id", "hook_id", "slot__public_id")
    return (
        Source.objects.filter(workspace_id__in=viewer.workspace_ids)
        .select_related("workspace", "project")
        .prefetch_related(Prefetch("hook_plans", queryset=plans))
    )
