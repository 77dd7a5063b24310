"""Adding documents to a knowledge base: the rules (what Scripe would refuse, who may, the
spend cap) and the row whose ingest a task then follows (`knowledge/ingest.py`)."""

from __future__ import annotations

import uuid
from urllib.parse import urlsplit

from django.db import transaction
from django.utils import timezone

from calendar_app.core.refusals import Refusal
from calendar_app.models import KnowledgeDocument, KnowledgeKind, Project, Role, Workspace
from calendar_app.pipeline import dispatch
from calendar_app.pipeline.generation import spend_cap_sentence
from scripe_integration.contract import ScripeInputError, knowledge_body
from scripe_integration.plans import KNOWLEDGE_CENTS
from scripe_integration.services import connection_for

# Which form field holds each kind's content.
CONTENT_FIELD = {
    KnowledgeKind.TEXT: "text",
    KnowledgeKind.URL: "url",
    KnowledgeKind.YOUTUBE: "url",
    KnowledgeKind.FILE: "file",
}

ONLY_MANAGERS = "Only a manager or an admin can add documents to the knowledge base."


def knowledge_add(
    *,
    workspace: Workspace,
    kind: str,
    content: str,
    project: Project | None = None,
    name: str = "",
    user=None,
    role: str | None = None,
) -> KnowledgeDocument:
    """Adds a document (`content`: the text, the web address or the upload id) to the
    project's knowledge base, or the whole workspace's without a project, and hands its
    ingest to a task once the transaction commits. `role`, the asker's role in the
    workspace, must be manager or admin. Refuses, before anything is sent, what Scripe
    would refuse, and anything while the workspace's key is unusable or Scripe's daily
    spend cap is reached."""
    if role is not None and role not in (Role.MANAGER, Role.ADMIN):
        raise Refusal(ONLY_MANAGERS, status=403)
    if kind not in KnowledgeKind.values:
        raise Refusal(fields={"kind": "Choose a text, a web page, a YouTube video or a file."})
    if project is not None and project.workspace_id != workspace.pk:
        raise Refusal(fields={"where": "That project is not in this workspace."})
    if project is not None and not project.is_active:
        raise Refusal(fields={"where": project.inactive_reason})
    field = CONTENT_FIELD[kind]
    content = (content or "").strip()
    name = (name or "").strip()[:200]
    if not content:
        empty = {
            "text": "Write or paste the text Scripe should know.",
            "url": "Give the address.",
            "file": "Choose a file.",
        }
        raise Refusal(fields={field: empty[field]})
    try:
        knowledge_body(kind, content, name=name)
    except ScripeInputError as error:
        raise Refusal(fields={field: error.message}) from None
    connection = connection_for(workspace)
    if connection.blocks_generation:
        raise Refusal(
            "This workspace's Scripe key is missing or invalid, so nothing can be sent to "
            "Scripe until an admin fixes it."
        )
    if connection.spend_cap_reached_until is not None:
        # Scripe would answer 402 until its UTC day ends: say so now, send nothing.
        raise Refusal(spend_cap_sentence(connection).replace("generate after", "add it after"))
    now = timezone.now()
    with transaction.atomic():
        document = KnowledgeDocument.objects.create(
            workspace=workspace,
            project=project,
            kind=kind,
            name=name or _name_of(kind, content),
            text=content if kind == KnowledgeKind.TEXT else "",
            url=content if field == "url" else "",
            upload_id=content if kind == KnowledgeKind.FILE else "",
            added_by=user,
            cost_cents=KNOWLEDGE_CENTS[kind],
            idempotency_key=uuid.uuid4().hex,
            next_poll_at=now,
            # Its task is enqueued below; no dispatcher needs to hand it on meanwhile.
            dispatched_at=now,
        )
        transaction.on_commit(lambda: dispatch.enqueue_knowledge([document.pk]))
    return document


def _name_of(kind: str, content: str) -> str:
    """A name for a document its adder did not name: a text's first line, a page's address
    without its scheme."""
    if kind == KnowledgeKind.TEXT:
        first = content.splitlines()[0].strip()
        return first[:77] + "…" if len(first) > 80 else first
    if kind in (KnowledgeKind.URL, KnowledgeKind.YOUTUBE):
        parts = urlsplit(content)
        return f"{parts.netloc}{parts.path}{'?' + parts.query if parts.query else ''}"[:200]
    return "File"
