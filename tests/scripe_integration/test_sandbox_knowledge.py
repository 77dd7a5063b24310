"""The knowledge base (`POST /v1/knowledge`, contract §8.10) in the sandbox and the client."""

from __future__ import annotations

import json
import uuid

import pytest

from scripe_integration.contract import ScripeError, ScripeInputError
from scripe_integration.webhooks import parse_event
from tests.scripe_integration.sandbox_support import (
    PROJECT,
    Receiver,
    api_client,
    eventually,
)


def key() -> str:
    return uuid.uuid4().hex


def finished(scripe, job_id: str):
    return eventually(lambda: (j := scripe.get_job(job_id)).is_terminal and j, seconds=10)


def spent(sandbox) -> int:
    return sum(sandbox.stats()["spendCents"].values())


@pytest.mark.parametrize(
    ("kind", "content", "job_type", "cents"),
    [
        ("text", "We answer every support ticket within an hour.", "KB_INGEST_TEXT", 1),
        ("url", "https://example.com/about", "KB_INGEST_URL", 2),
        ("youtube", "https://www.youtube.com/watch?v=dQw4w9WgXcQ", "KB_INGEST_YOUTUBE", 3),
    ],
)
def test_an_ingest_is_a_job_that_ends_with_a_document_and_costs_by_type(
    sandbox, kind, content, job_type, cents
):
    with sandbox.client() as scripe:
        job = scripe.add_knowledge(kind, content, idempotency_key=key(), project_id=PROJECT)
        assert (job.type, job.status, job.project_id) == (job_type, "QUEUED", PROJECT)
        done = finished(scripe, job.id)
    assert done.status == "DONE"
    assert done.document_id.startswith("kb_") and done.post_id is None
    assert spent(sandbox) == cents


def test_a_file_goes_through_an_upload_which_it_uses_up(sandbox, tmp_path):
    path = tmp_path / "style-guide.txt"
    path.write_text("Write like you talk. Short sentences.\n" * 50)
    size = path.stat().st_size
    with sandbox.client() as scripe:
        upload = scripe.create_upload("text/plain", max_size_bytes=size)
        scripe.put_upload(upload, str(path), size=size)
        job = scripe.add_knowledge(
            "file", upload.id, idempotency_key=key(), project_id=PROJECT, name="Style guide"
        )
        assert job.type == "KB_INGEST_FILE"
        assert finished(scripe, job.id).document_id.startswith("kb_")
        with pytest.raises(ScripeError) as again:
            scripe.add_knowledge("file", upload.id, idempotency_key=key())
    assert again.value.code == "conflict"  # one upload, one document
    assert spent(sandbox) == 3


def test_a_document_without_a_project_is_the_whole_workspaces(sandbox):
    with sandbox.client() as scripe:
        job = scripe.add_knowledge("text", "Our tone: plain words.", idempotency_key=key())
        assert job.project_id is None
        assert finished(scripe, job.id).status == "DONE"


def test_a_retry_with_the_same_key_replays_the_first_job(sandbox):
    with sandbox.client() as scripe:
        same = key()
        first = scripe.add_knowledge("url", "https://example.com/a", idempotency_key=same)
        again = scripe.add_knowledge("url", "https://example.com/a", idempotency_key=same)
    assert again.id == first.id and again.replayed
    assert sandbox.stats()["jobsCreated"] == 1 and spent(sandbox) == 2


def test_the_next_ingest_fails_with_a_reason_when_told_to(sandbox):
    sandbox.fail_next_jobs(code="url_unreachable")
    with sandbox.client() as scripe:
        job = scripe.add_knowledge("url", "https://example.com/gone", idempotency_key=key())
        done = finished(scripe, job.id)
    assert (done.status, done.error_code) == ("FAILED", "url_unreachable")
    assert "could not be fetched" in done.error_message


def test_the_client_refuses_what_scripe_would_before_sending(sandbox):
    with sandbox.client() as scripe:
        with pytest.raises(ScripeInputError, match="YouTube"):
            scripe.add_knowledge("youtube", "https://example.com/video", idempotency_key=key())
        with pytest.raises(ScripeInputError):
            scripe.add_knowledge("url", "example.com", idempotency_key=key())
        with pytest.raises(ScripeInputError):
            scripe.add_knowledge("text", "   ", idempotency_key=key())
    assert sandbox.stats()["requestsTotal"] == 0


def test_the_sandbox_refuses_a_bad_body(sandbox):
    with api_client(sandbox) as api:
        not_a_video = api.post(
            "knowledge", json={"type": "youtube", "url": "https://example.com/v"}
        )
        unknown_type = api.post("knowledge", json={"type": "pdf", "text": "x"})
        other_project = api.post(
            "knowledge", json={"type": "text", "text": "x", "projectId": "proj_nope"}
        )
        no_upload = api.post("knowledge", json={"type": "file", "uploadId": "not-an-upload"})
    assert not_a_video.status_code == 422
    assert unknown_type.json()["error"]["code"] == "invalid_request"
    assert other_project.status_code == 404
    assert no_upload.status_code == 422
    assert spent(sandbox) == 0


def test_ingests_count_against_the_daily_spend_cap(sandbox_factory):
    sandbox = sandbox_factory(spend_cap=1)  # one generation: 5 cents a day
    with sandbox.client() as scripe:
        scripe.add_knowledge("youtube", "https://youtu.be/dQw4w9WgXcQ", idempotency_key=key())
        scripe.add_knowledge("url", "https://example.com/", idempotency_key=key())
        with pytest.raises(ScripeError) as refused:
            scripe.add_knowledge("text", "One cent more than the cap.", idempotency_key=key())
    assert refused.value.code == "spend_cap_exceeded"
    assert (refused.value.meta["spentCents"], refused.value.meta["estimateCents"]) == (5, 1)


def test_jobs_can_be_listed_by_ingest_type(sandbox):
    with sandbox.client() as scripe:
        ingest = scripe.add_knowledge("text", "A fact.", idempotency_key=key())
        listed = scripe.list_jobs(type=["KB_INGEST_TEXT"])
        generations = scripe.list_jobs(type=["POST_GENERATION"])
    assert [j.id for j in listed] == [ingest.id]
    assert generations == []


def test_an_indexed_document_is_announced_with_its_job(sandbox):
    receiver = Receiver()
    try:
        with api_client(sandbox) as api:
            body = {"name": "n", "url": receiver.url, "events": ["knowledge.indexed"]}
            assert api.post("webhook-endpoints", json=body).status_code == 200
        with sandbox.client() as scripe:
            job = scripe.add_knowledge(
                "text", "A fact.", idempotency_key=key(), project_id=PROJECT, name="Facts"
            )
            done = finished(scripe, job.id)
        events = eventually(receiver.events)
    finally:
        receiver.stop()
    event = parse_event(json.dumps(events[0]).encode())
    assert event.type == "knowledge.indexed"
    assert (event.document.id, event.document.job_id) == (done.document_id, job.id)
    assert (event.document.project_id, event.document.name) == (PROJECT, "Facts")
