"""Reads for the sources pages: a viewer's sources, what changed since a page looked, and
which hooks of a source became posts."""

from __future__ import annotations

from django.db.models import QuerySet

from calendar_app.access import Viewer
from calendar_app.models import HookPlan, Idea, Source

LIST_LIMIT = 100


def visible_sources(viewer: Viewer) -> QuerySet[Source]:
    """The newest sources of the viewer's workspaces, with what a card shows."""
    return (
        Source.objects.filter(workspace_id__in=viewer.workspace_ids)
        .select_related("project", "created_by")
        .order_by("-created_at", "-pk")[:LIST_LIMIT]
    )


def sources_changed_since(viewer: Viewer, since) -> bool:
    """Whether any of the viewer's sources changed after `since` (one indexed query)."""
    return Source.objects.filter(
        workspace_id__in=viewer.workspace_ids, updated_at__gt=since
    ).exists()


def hook_plans(source: Source) -> dict[str, HookPlan]:
    """The source's planned hooks by hook id, with their posts."""
    plans = HookPlan.objects.filter(source=source).select_related("slot")
    return {plan.hook_id: plan for plan in plans}


def hook_ideas(source: Source) -> dict[str, Idea]:
    """The source's hooks put on the ideas board, by hook id."""
    return {idea.hook_id: idea for idea in Idea.objects.filter(source=source).exclude(hook_id="")}
