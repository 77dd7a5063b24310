"""Adding documents to a knowledge base: the rules (what Scripe would refuse, who may, the
spend cap) and the row whose ingest a task then follows (`knowledge/ingest.py`).

A file arrives on disk (streamed there by the view's upload handler, never held in memory),
is checked for its type and size against Scripe's caps, and moved to the sources' directory
under the document's id (never its name); the task uploads it to Scripe through the sources'
upload step and deletes the app's copy once Scripe has it."""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from pathlib import Path
from urllib.parse import urlsplit

from django.db import transaction
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from calendar_app.core.refusals import Refusal
from calendar_app.models import KnowledgeDocument, KnowledgeKind, Project, Role, Workspace
from calendar_app.pipeline import dispatch
from calendar_app.pipeline.generation import spend_cap_sentence
from calendar_app.sources.services import storage_dir
from scripe_integration.contract import ScripeInputError, knowledge_body, upload_cap
from scripe_integration.plans import KNOWLEDGE_CENTS
from scripe_integration.sentences import Said
from scripe_integration.services import connection_for

# Which form field holds each kind's content.
CONTENT_FIELD = {
    KnowledgeKind.TEXT: "text",
    KnowledgeKind.URL: "url",
    KnowledgeKind.YOUTUBE: "url",
    KnowledgeKind.FILE: "file",
}

# Marked here, translated where it is said (the view says it too).
# What the reader may do once the spend cap resets (`spend_cap_sentence`).
ADD_AFTER_THAT = Said(gettext_noop("add it after that"))
ONLY_MANAGERS = gettext_noop("Only a manager or an admin can add documents to the knowledge base.")


MB = 1024 * 1024
# Documents a knowledge base takes, by file name ending (the type sent to Scripe is ours, not
# the browser's guess): what a brand's facts and voice come in.
DOCUMENT_TYPES = {
    ".pdf": "application/pdf",
    ".doc": "application/msword",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".ppt": "application/vnd.ms-powerpoint",
    ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ".txt": "text/plain",
}
LARGEST_DOCUMENT = 100 * MB


def knowledge_file_check(name: str, size: int) -> str:
    """The content type Scripe gets for a document of this name and size, or a Refusal on
    the `file` field saying what is taken."""
    content_type = DOCUMENT_TYPES.get(Path(name or "").suffix.lower())
    if content_type is None:
        raise Refusal(
            fields={
                "file": _(
                    "A knowledge base takes PDF, Word or PowerPoint documents, or plain "
                    "text (.txt). Save the file as one of those."
                )
            }
        )
    cap = upload_cap(content_type) or LARGEST_DOCUMENT
    if size > cap:
        raise Refusal(
            fields={
                "file": _(
                    "This file is %(size)s MB; Scripe takes documents of at most %(cap)s MB. "
                    "Split it in parts."
                )
                % {"size": number_format(round(size / MB), force_grouping=True), "cap": cap // MB}
            }
        )
    if size == 0:
        raise Refusal(fields={"file": _("This file is empty.")})
    return content_type


def _may_add(workspace: Workspace, project: Project | None, role: str | None) -> None:
    """Who may add, and where; and nothing while Scripe would refuse every request."""
    if role is not None and role not in (Role.MANAGER, Role.ADMIN):
        raise Refusal(_(ONLY_MANAGERS), status=403)
    if project is not None and project.workspace_id != workspace.pk:
        raise Refusal(fields={"where": _("That project is not in this workspace.")})
    if project is not None and not project.is_active:
        raise Refusal(fields={"where": project.inactive_reason})


def _scripe_takes_it(workspace: Workspace) -> None:
    connection = connection_for(workspace)
    if connection.blocks_generation:
        raise Refusal(
            _(
                "This workspace's Scripe key is missing or invalid, so nothing can be sent to "
                "Scripe until an admin fixes it."
            )
        )
    if connection.spend_cap_reached_until is not None:
        # Scripe would answer 402 until its UTC day ends: say so now, send nothing.
        raise Refusal(spend_cap_sentence(connection, then=ADD_AFTER_THAT))


def knowledge_add_file(
    *,
    workspace: Workspace,
    name: str,
    size: int,
    temporary_path: str,
    project: Project | None = None,
    user=None,
    role: str | None = None,
) -> KnowledgeDocument:
    """A document from a file Django streamed to `temporary_path`: checked (who, type,
    size), moved into the app's upload directory, and handed to a task that uploads it to
    Scripe and has it indexed."""
    _may_add(workspace, project, role)
    content_type = knowledge_file_check(name, size)
    _scripe_takes_it(workspace)
    now = timezone.now()
    document = KnowledgeDocument(
        workspace=workspace,
        project=project,
        kind=KnowledgeKind.FILE,
        name=Path(name).name[:200],
        content_type=content_type,
        size_bytes=size,
        added_by=user,
        cost_cents=KNOWLEDGE_CENTS[KnowledgeKind.FILE],
        idempotency_key=uuid.uuid4().hex,
        next_poll_at=now,
        dispatched_at=now,
    )
    path = storage_dir() / f"kb-{document.public_id.hex}"
    # A rename when both are on one file system (the usual case): no copy of the bytes.
    shutil.move(temporary_path, path)
    document.local_path = str(path)
    try:
        with transaction.atomic():
            document.save()
            transaction.on_commit(lambda: dispatch.enqueue_knowledge([document.pk]))
    except Exception:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
        raise
    return document


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
    spend cap is reached. A file comes through `knowledge_add_file`."""
    _may_add(workspace, project, role)
    if kind not in KnowledgeKind.values or kind == KnowledgeKind.FILE:
        raise Refusal(fields={"kind": _("Choose a text, a web page, a YouTube video or a file.")})
    field = CONTENT_FIELD[kind]
    content = (content or "").strip()
    name = (name or "").strip()[:200]
    if not content:
        empty = {
            "text": _("Write or paste the text Scripe should know."),
            "url": _("Give the address."),
            "file": _("Choose a file."),
        }
        raise Refusal(fields={field: empty[field]})
    try:
        knowledge_body(kind, content, name=name)
    except ScripeInputError as error:
        # The library's sentences are English; the catalogue has the ones a form can meet.
        raise Refusal(fields={field: _(error.message)}) from None
    _scripe_takes_it(workspace)
    now = timezone.now()
    with transaction.atomic():
        document = KnowledgeDocument.objects.create(
            workspace=workspace,
            project=project,
            kind=kind,
            name=name or _name_of(kind, content),
            text=content if kind == KnowledgeKind.TEXT else "",
            url=content if field == "url" else "",
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
