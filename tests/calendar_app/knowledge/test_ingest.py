"""Scripe's events about ingests: `knowledge.indexed` marks the document indexed before any
poll; `job.completed` makes its next poll due now. Through the real receiver and task."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from calendar_app import tasks
from calendar_app.knowledge.ingest import knowledge_advance
from calendar_app.knowledge.services import knowledge_add
from calendar_app.models import KnowledgeDocument, Role
from calendar_app.pipeline import dispatch
from calendar_app.pipeline import webhooks as calendar_webhooks
from scripe_integration.models import ScripeConnection
from scripe_integration.services import webhook_register
from scripe_integration.webhooks import SIGNATURE_HEADER, signature
from tests.support import wait_for


@pytest.fixture
def hooks(team, sandbox, monkeypatch, settings):
    """Acme wired to the sandbox with its webhook endpoint registered there (pointing at
    nobody: the test delivers what the sandbox would have sent)."""
    settings.PUBLIC_BASE_URL = "http://127.0.0.1:9"
    sandbox.wire(team.workspace)
    monkeypatch.setattr(dispatch, "enqueue_knowledge", lambda ids: None)
    registered, message = webhook_register(workspace=team.workspace)
    assert registered, message
    monkeypatch.setattr(calendar_webhooks, "enqueue", tasks.apply_scripe_webhook)
    return sandbox


def submitted(team) -> KnowledgeDocument:
    document = knowledge_add(
        workspace=team.workspace,
        project=team.project,
        kind="text",
        content="Our office dog is called Biscuit.",
        user=team.manager,
        role=Role.MANAGER,
    )
    knowledge_advance([document.pk])  # the submit
    document.refresh_from_db()
    assert document.scripe_job_id and document.state == "indexing"
    return document


def sent(sandbox, event_type: str, job_id: str) -> bytes:
    """The body the sandbox sent (to nobody) for the job's event."""

    def bodies():
        rows = httpx.get(f"{sandbox.root_url}/_sandbox/webhook-deliveries").json()["data"]
        return [
            json.dumps(r["payload"], separators=(",", ":")).encode()
            for r in rows
            if r["eventType"] == event_type
            and job_id
            in (r["payload"]["data"]["object"].get("jobId"), r["payload"]["data"]["object"]["id"])
        ]

    wait_for(lambda: bodies(), 10, f"{event_type} for {job_id}")
    return bodies()[-1]


def deliver(client, team, body: bytes):
    connection = ScripeConnection.objects.get(workspace=team.workspace)
    header = signature(connection.webhook_secrets()[0], body, int(time.time()))
    return client.post(
        f"/hooks/scripe/{connection.public_id}/",
        data=body,
        content_type="application/json",
        headers={SIGNATURE_HEADER: header},
    )


def test_knowledge_indexed_marks_the_document_indexed_before_any_poll(
    client, team, hooks, django_capture_on_commit_callbacks
):
    document = submitted(team)
    body = sent(hooks, "knowledge.indexed", document.scripe_job_id)
    with django_capture_on_commit_callbacks(execute=True):
        assert deliver(client, team, body).status_code == 200
    document.refresh_from_db()
    assert (document.state, document.finished) == ("indexed", True)
    assert document.document_id == json.loads(body)["data"]["object"]["id"]
    assert document.polls == 0  # the event, not a poll, said so
    # The poll that comes due later changes nothing and asks Scripe nothing.
    calls = hooks.stats()["requestsTotal"]
    knowledge_advance([document.pk])
    assert hooks.stats()["requestsTotal"] == calls


def test_job_completed_makes_the_ingests_next_poll_due_now(
    client, team, hooks, django_capture_on_commit_callbacks
):
    document = submitted(team)
    body = sent(hooks, "job.completed", document.scripe_job_id)
    KnowledgeDocument.objects.filter(pk=document.pk).update(next_poll_at=None)
    with django_capture_on_commit_callbacks(execute=True):
        assert deliver(client, team, body).status_code == 200
    document.refresh_from_db()
    assert document.next_poll_at is not None and document.dispatched_at is None


def test_an_event_for_a_document_the_calendar_does_not_follow_changes_nothing(
    client, team, hooks, django_capture_on_commit_callbacks
):
    body = json.dumps(
        {
            "id": "evt_unknown",
            "type": "knowledge.indexed",
            "createdAt": "2026-12-07T10:00:00.000Z",
            "data": {"object": {"id": "kb_elsewhere", "jobId": "job_elsewhere"}},
        }
    ).encode()
    with django_capture_on_commit_callbacks(execute=True):
        assert deliver(client, team, body).status_code == 200
    assert not KnowledgeDocument.objects.exists()
