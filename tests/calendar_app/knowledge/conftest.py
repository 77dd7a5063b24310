"""Fixtures for the knowledge base's tests."""

from __future__ import annotations

import time

import pytest
from django.utils import timezone

from calendar_app.models import KnowledgeDocument
from calendar_app.pipeline import dispatch


@pytest.fixture
def handed(team, sandbox, monkeypatch) -> list[list[int]]:
    """A sandbox wired to the team's workspace; ingest tasks are not run but recorded (tests
    advance documents themselves, with `ingest_finish`)."""
    sandbox.wire(team.workspace)
    calls: list[list[int]] = []
    monkeypatch.setattr(dispatch, "enqueue_knowledge", calls.append)
    monkeypatch.setattr(dispatch, "enqueue", lambda job_ids: None)
    return calls


def ingest_finish(document_id: int, seconds: float = 20) -> KnowledgeDocument:
    """Advances a document step by step, as the dispatcher and its tasks would, until it is
    finished: each step when it is due."""
    from calendar_app.knowledge.ingest import knowledge_advance

    deadline = time.monotonic() + seconds
    while True:
        knowledge_advance([document_id])
        document = KnowledgeDocument.objects.get(pk=document_id)
        if document.finished:
            return document
        assert time.monotonic() < deadline, f"document {document_id} unfinished: {document!r}"
        due = document.next_poll_at
        wait = (due - timezone.now()).total_seconds() if due else 0.1
        time.sleep(min(max(wait, 0.02), max(0.0, deadline - time.monotonic())))
