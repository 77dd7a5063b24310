"""Reads about exports: each workspace an admin may export, with its latest archives."""

from __future__ import annotations

from dataclasses import dataclass

from calendar_app.access import Viewer
from calendar_app.models import ExportStatus, Role, Workspace, WorkspaceExport

# How many past exports a workspace's section lists.
SHOWN = 3


@dataclass
class ExportableWorkspace:
    workspace: Workspace
    exports: list[WorkspaceExport]

    @property
    def preparing(self) -> bool:
        return any(e.status == ExportStatus.PENDING for e in self.exports)


def exportable_workspaces(viewer: Viewer) -> list[ExportableWorkspace]:
    """The workspaces the viewer administers, each with its latest exports: one query for
    the exports of them all (the workspaces come with the viewer)."""
    workspaces = viewer.workspaces_with(Role.ADMIN)
    by_workspace: dict[int, list[WorkspaceExport]] = {w.pk: [] for w in workspaces}
    for export in WorkspaceExport.objects.filter(workspace_id__in=by_workspace).order_by(
        "-created_at", "-id"
    ):
        if len(by_workspace[export.workspace_id]) < SHOWN:
            by_workspace[export.workspace_id].append(export)
    return [ExportableWorkspace(w, by_workspace[w.pk]) for w in workspaces]
