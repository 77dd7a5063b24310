"""Adding documents to a knowledge base, and following their ingest in Scripe (the sandbox)."""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
from django.utils import timezone

from calendar_app.core.refusals import Refusal
from calendar_app.knowledge.ingest import knowledge_advance
from calendar_app.knowledge.services import (
    knowledge_add,
    knowledge_add_file,
    knowledge_file_check,
)
from calendar_app.models import KnowledgeDocument, Role, Workspace
from calendar_app.pipeline.dispatch import generations_dispatch
from calendar_app.pipeline.generation import generation_request
from calendar_app.pipeline.spend import spend_today
from scripe_integration.services import connection_for
from tests.calendar_app.knowledge.conftest import ingest_finish
from tests.support import wait_for

YOUTUBE = "https://www.youtube.com/watch?v=dQw4w9WgXcQ"


def add(team, kind="text", content="We answer every ticket within an hour.", **kw):
    kw.setdefault("project", team.project)
    return knowledge_add(
        workspace=team.workspace,
        kind=kind,
        content=content,
        user=team.manager,
        role=Role.MANAGER,
        **kw,
    )


@pytest.mark.parametrize(
    ("kind", "content", "cents"),
    [
        ("text", "Our founder started the company in a garage.", 1),
        ("url", "https://example.com/about-us", 2),
        ("youtube", YOUTUBE, 3),
    ],
)
def test_a_manager_adds_each_kind_and_scripe_indexes_it(
    team, handed, kind, content, cents, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        document = add(team, kind, content)
    assert handed == [[document.pk]]  # its task, once the transaction committed
    assert (document.state, document.added_by, document.cost_cents) == (
        "indexing",
        team.manager,
        cents,
    )
    document = ingest_finish(document.pk)
    assert document.state == "indexed" and document.document_id.startswith("kb_")
    assert document.progress == 1.0 and not document.error_message
    spend = spend_today([team.workspace])[team.workspace.pk]
    assert (spend.generations, spend.knowledge_documents, spend.spent_cents) == (0, 1, cents)
    assert "1 knowledge document" in spend.figures


def test_a_document_for_the_whole_workspace_has_no_project(team, handed, wired_scripe_jobs):
    document = ingest_finish(add(team, project=None).pk)
    assert document.project is None and document.state == "indexed"
    job = wired_scripe_jobs(document.scripe_job_id)
    assert job.project_id is None and job.type == "KB_INGEST_TEXT"


@pytest.fixture
def wired_scripe_jobs(sandbox):
    def get(job_id):
        with sandbox.client() as scripe:
            return scripe.get_job(job_id)

    return get


def test_an_editor_may_not_add_and_is_told_who_may(team, handed):
    with pytest.raises(Refusal) as refused:
        knowledge_add(
            workspace=team.workspace,
            kind="text",
            content="A fact.",
            project=team.project,
            user=team.editor,
            role=Role.EDITOR,
        )
    assert refused.value.status == 403 and "manager or an admin" in refused.value.message
    assert not KnowledgeDocument.objects.exists() and handed == []


@pytest.mark.parametrize(
    ("kind", "content", "field", "says"),
    [
        ("youtube", "https://example.com/watch?v=abc", "url", "YouTube video"),
        ("url", "example.com/page", "url", "http"),
        ("text", "   ", "text", "Write or paste"),
        ("text", "x" * 100_001, "text", "at most"),
    ],
)
def test_what_scripe_would_refuse_is_refused_before_anything_is_saved(
    team, handed, kind, content, field, says
):
    with pytest.raises(Refusal) as refused:
        add(team, kind, content)
    assert says in refused.value.fields[field]
    assert not KnowledgeDocument.objects.exists() and handed == []


def test_a_paused_project_takes_no_documents(team, handed):
    with pytest.raises(Refusal) as refused:
        add(team, project=team.paused)
    assert "paused" in refused.value.fields["where"].lower()


def test_a_failed_ingest_shows_scripes_reason(team, handed, sandbox):
    sandbox.fail_next_jobs(code="url_unreachable")
    document = ingest_finish(add(team, "url", "https://example.com/gone").pk)
    assert (document.state, document.error_code) == ("failed", "url_unreachable")
    assert document.error_shown == (
        "Scripe could not index it: The page could not be fetched (it answered 404)."
    )


def test_knowledge_spend_counts_against_the_daily_cap_and_is_refused_at_it(
    team, sandbox_factory, monkeypatch
):
    capped = sandbox_factory(spend_cap=1)  # 5 cents a day
    capped.wire(team.workspace)
    monkeypatch.setattr("calendar_app.pipeline.dispatch.enqueue_knowledge", lambda ids: None)
    for kind, content in [("youtube", YOUTUBE), ("url", "https://example.com/")]:
        assert ingest_finish(add(team, kind, content).pk).state == "indexed"  # 3 + 2 cents
    over = ingest_finish(add(team, "text", "One cent too many.").pk)
    assert (over.state, over.error_code) == ("failed", "spend_cap_exceeded")
    assert "daily spend cap" in over.error_message
    workspace = Workspace.objects.select_related("scripe").get(pk=team.workspace.pk)
    spend = spend_today([workspace])[workspace.pk]
    assert spend.spent_cents == 5 and spend.level == "reached"
    # From now on, nothing is sent until 00:00 UTC: knowledge or generations.
    assert connection_for(team.workspace).spend_cap_reached_until is not None
    with pytest.raises(Refusal, match="daily spend cap"):
        add(team, "text", "Another fact.")
    with pytest.raises(Refusal, match="daily spend cap"):
        generation_request(slot=team.slot(timezone.now() + timedelta(days=2)))


def test_a_retried_submit_replays_the_same_scripe_job(team, handed, sandbox):
    sandbox.fault("POST /v1/knowledge", status=503, count=1)
    document = ingest_finish(add(team).pk)
    assert document.state == "indexed" and document.submit_tries == 2
    assert sandbox.stats()["jobsCreated"] == 1


def test_the_dispatcher_hands_due_ingests_to_their_own_task(team, handed):
    document = add(team)
    KnowledgeDocument.objects.filter(pk=document.pk).update(dispatched_at=None)
    handed.clear()
    assert generations_dispatch() == 1
    assert handed == [[document.pk]]
    assert generations_dispatch() == 0  # marked: a second dispatcher finds it taken


def test_ingests_polled_together_share_one_listing(team, handed, sandbox):
    ids = [add(team, content=f"Fact number {n}.").pk for n in range(3)]
    knowledge_advance(ids)  # three submits
    wait_for(lambda: sandbox.stats()["jobs"]["DONE"] == 3, 10, "Scripe to index all three")
    before = sandbox.stats()["requests"]
    KnowledgeDocument.objects.update(next_poll_at=None)  # all due now
    knowledge_advance(ids)
    after = sandbox.stats()["requests"]
    assert after.get("GET /v1/jobs", 0) - before.get("GET /v1/jobs", 0) == 1
    assert after.get("GET /v1/jobs/{jobId}", 0) == before.get("GET /v1/jobs/{jobId}", 0)
    assert set(KnowledgeDocument.objects.values_list("state", flat=True)) == {"indexed"}


# files ------------------------------------------------------------------------------------------


def a_file(tmp_path, name="style-guide.txt", text="Write like you talk.\n" * 40) -> tuple:
    path = tmp_path / name
    path.write_text(text)
    return str(path), path.stat().st_size


def test_a_document_file_is_uploaded_indexed_and_the_apps_copy_deleted(
    team, handed, sandbox, tmp_path, settings
):
    settings.SOURCE_UPLOAD_DIR = str(tmp_path / "kept")
    path, size = a_file(tmp_path)
    document = knowledge_add_file(
        workspace=team.workspace,
        project=team.project,
        name="Style guide.txt",
        size=size,
        temporary_path=path,
        user=team.manager,
        role=Role.MANAGER,
    )
    kept = document.local_path
    assert (document.kind, document.content_type, document.size_bytes) == (
        "file",
        "text/plain",
        size,
    )
    assert os.path.exists(kept) and "Style guide" not in kept  # its id, never its name
    document = ingest_finish(document.pk)
    assert document.state == "indexed" and document.upload_id.startswith("upl_")
    assert not os.path.exists(kept) and document.local_path == ""
    assert document.local_deleted_at is not None
    stats = sandbox.stats()
    assert stats["uploadsComplete"] == 1 and stats["requests"]["POST /v1/knowledge"] == 1
    assert spend_today([team.workspace])[team.workspace.pk].spent_cents == 3


@pytest.mark.parametrize(
    ("name", "size", "says"),
    [
        ("podcast.mp3", 1000, "PDF, Word or PowerPoint"),
        ("setup.exe", 1000, "PDF, Word or PowerPoint"),
        ("huge.pdf", 101 * 1024 * 1024, "at most 100 MB"),
        ("empty.txt", 0, "empty"),
    ],
)
def test_a_file_a_knowledge_base_does_not_take_is_refused_with_a_sentence(name, size, says):
    with pytest.raises(Refusal) as refused:
        knowledge_file_check(name, size)
    assert says in refused.value.fields["file"]


def test_an_upload_scripe_refuses_for_a_moment_is_tried_again_and_indexed_once(
    team, handed, sandbox, tmp_path, settings
):
    settings.SOURCE_UPLOAD_DIR = str(tmp_path / "kept")
    path, size = a_file(tmp_path)
    sandbox.fault("POST /v1/uploads", status=503, count=1)
    document = knowledge_add_file(
        workspace=team.workspace,
        name="facts.txt",
        size=size,
        temporary_path=path,
        user=team.admin,
        role=Role.ADMIN,
    )
    document = ingest_finish(document.pk)
    assert document.state == "indexed" and document.project is None
    assert sandbox.stats()["requests"]["POST /v1/knowledge"] == 1
