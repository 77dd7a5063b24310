"""Reads for the knowledge pages: a knowledge base's documents, with who added them."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from calendar_app.models import KnowledgeDocument, KnowledgeState, Project, Workspace


def knowledge_documents(*, workspace: Workspace, project: Project | None) -> QuerySet:
    """The project's documents (or, without a project, the whole workspace's own), newest
    first, with their adders: one query however many there are."""
    documents = KnowledgeDocument.objects.filter(workspace=workspace).select_related(
        "added_by", "project"
    )
    if project is None:
        return documents.filter(project__isnull=True)
    return documents.filter(project=project)


def knowledge_counts_for(workspace_ids: list[int]) -> dict[tuple[int, int | None], int]:
    """How many documents (not failed) each knowledge base of these workspaces holds, in one
    query, by (workspace id, project id; None for the workspace's own)."""
    rows = (
        KnowledgeDocument.objects.filter(workspace_id__in=workspace_ids)
        .filter(~Q(state=KnowledgeState.FAILED))
        .values("workspace_id", "project_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    return {(row["workspace_id"], row["project_id"]): row["n"] for row in rows}
