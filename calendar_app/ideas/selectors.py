"""Reads for the ideas board: what a viewer's workspaces have, by state, with each idea's
posts, in a fixed number of queries however many ideas there are."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Prefetch, QuerySet

from calendar_app.access import Viewer
from calendar_app.models import PLANNABLE_IDEA_STATES, Idea, IdeaState, Label, PlannedSlot, Project

# The calendar's panel shows this many ideas; the board has them all.
PANEL_MAX = 40


@dataclass
class Column:
    state: str
    name: str
    ideas: list[Idea]


def _with_everything(ideas: QuerySet[Idea]) -> QuerySet[Idea]:
    """An idea as its card shows it: project, owner, source, labels and the posts made from
    it (live ones, by time), three queries in all."""
    posts = PlannedSlot.objects.alive().select_related("project").order_by("scheduled_for", "id")
    return ideas.select_related("project", "owner", "workspace", "source").prefetch_related(
        "labels", Prefetch("slots", queryset=posts, to_attr="posts")
    )


def board_ideas(
    viewer: Viewer, *, project: Project | None = None, label: Label | None = None
) -> list[Idea]:
    ideas = Idea.objects.filter(workspace_id__in=viewer.workspace_ids)
    if project is not None:
        ideas = ideas.filter(project=project)
    if label is not None:
        ideas = ideas.filter(labels=label)
    return list(_with_everything(ideas))


def columns(ideas: list[Idea]) -> list[Column]:
    """One column per state, in the order an idea goes through them."""
    by_state: dict[str, list[Idea]] = {state: [] for state in IdeaState.values}
    for idea in ideas:
        by_state[idea.state].append(idea)
    return [Column(state, IdeaState(state).label, by_state[state]) for state in IdeaState.values]


def panel_ideas(viewer: Viewer, *, workspace_id: int | None = None) -> list[Idea]:
    """Ideas the viewer may plan from (new and picked first, then used), for the calendar's
    and the queue's panel; `workspace_id` keeps one workspace's (a queue's)."""
    ids = viewer.editable_workspace_ids
    if workspace_id is not None:
        ids = [i for i in ids if i == workspace_id]
    ideas = Idea.objects.filter(workspace_id__in=ids, state__in=list(PLANNABLE_IDEA_STATES))
    ideas = _with_everything(ideas).order_by("state", "-created_at", "-id")
    return list(ideas[:PANEL_MAX])


def idea_posts(idea: Idea) -> list[PlannedSlot]:
    """The live posts planned from the idea, by time."""
    return list(
        PlannedSlot.objects.alive()
        .filter(idea=idea)
        .select_related("project")
        .order_by("scheduled_for", "id")
    )
