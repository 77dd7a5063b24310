"""Sources to Scripe (#26): the upload path (POST /v1/uploads, the PUT from disk, the file
source with the source's own Idempotency-Key), retries that make no second source, a failed
ingest with Scripe's reason, text and link sources, the app's copy deleted once Scripe has
it, and the dispatcher handing sources on like generations."""

from __future__ import annotations

import logging
import socket
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import time_machine
from django.utils import timezone, translation

from calendar_app.models import Source
from calendar_app.pipeline import dispatch
from calendar_app.sources import ingest, services
from scripe_integration.client import ScripeClient
from scripe_integration.contract import ScripeError
from tests.calendar_app.sources.conftest import file_source, ingest_finish, wav_bytes


def test_a_recording_is_uploaded_ingested_and_read_back(team, ingesting, tmp_path):
    source = file_source(team, tmp_path)
    assert source.status == "received"
    stored = Path(source.local_path)
    assert stored.exists() and stored.name == source.public_id.hex  # no file name on disk
    done = ingest_finish(source.pk)
    assert done.status == "ready"
    assert done.scripe_source_id.startswith("src_")
    assert done.duration_seconds == 3
    assert done.text_preview
    assert len(done.topics) == 3 and all(t["hooks"] for t in done.topics)
    assert done.uploaded_bytes == done.size_bytes
    # Scripe has the file: the app's copy is gone, and the page can say so.
    assert not stored.exists()
    assert done.local_path == "" and done.local_deleted_at is not None
    stats = ingesting.stats()
    assert stats["uploads"] == 1 and stats["sourceJobs"] == 1 and stats["sources"] == 1


def test_the_ingest_shows_progress_while_scripe_works(team, ingesting, tmp_path):
    ingesting.sandbox.state.config.ingest_seconds = (3.0, 3.0)
    source = file_source(team, tmp_path)
    ingest.source_advance(source.pk)
    source.refresh_from_db()
    assert source.status == "ingesting"
    assert source.scripe_job_id.startswith("job_")
    assert source.next_poll_at is not None  # it waits in the database, not in a worker


def test_an_interrupted_put_is_sent_again_without_a_second_source(
    team, ingesting, tmp_path, monkeypatch
):
    real_put = ScripeClient.put_upload
    tries = []

    def breaks_off_once(self, upload, path, *, size, **kwargs):
        tries.append(upload.id)
        if len(tries) == 1:
            # Half the bytes, then the connection drops.
            url = urlsplit(upload.upload_url)
            head = (
                f"PUT {url.path} HTTP/1.1\r\nHost: {url.netloc}\r\n"
                f"Content-Type: {upload.content_type}\r\nContent-Length: {size}\r\n\r\n"
            )
            with socket.create_connection((url.hostname, url.port)) as raw:
                raw.sendall(head.encode() + Path(path).read_bytes()[: size // 2])
            raise ScripeError(code="upload_interrupted", message="broke off", retryable=True)
        return real_put(self, upload, path, size=size, **kwargs)

    monkeypatch.setattr(ScripeClient, "put_upload", breaks_off_once)
    source = file_source(team, tmp_path)
    ingest.source_advance(source.pk)
    source.refresh_from_db()
    assert source.status == "uploading"
    assert source.retry_reason.startswith("The upload to Scripe broke off")
    assert Path(source.local_path).exists()  # kept until Scripe has it
    Source.objects.filter(pk=source.pk).update(next_poll_at=source.created_at)
    done = ingest_finish(source.pk)
    assert done.status == "ready"
    assert tries == [tries[0], tries[0]]  # the same upload URL, sent again
    upload = ingesting.sandbox.state.uploads.by_id[tries[0]]
    assert upload.attempts == 2 and upload.complete
    assert ingesting.stats()["sourceJobs"] == 1


def test_a_lost_answer_to_the_source_request_is_replayed_not_repeated(
    team, ingesting, tmp_path, settings
):
    settings.SCRIPE_READ_TIMEOUT = 0.5
    ingesting.fault("POST /v1/sources", hangSeconds=1.0)
    source = file_source(team, tmp_path)
    ingest.source_advance(source.pk)
    source.refresh_from_db()
    assert not source.scripe_job_id and source.retry_reason
    Source.objects.filter(pk=source.pk).update(next_poll_at=source.created_at)
    settings.SCRIPE_READ_TIMEOUT = 15
    done = ingest_finish(source.pk)
    assert done.status == "ready"
    stats = ingesting.stats()
    assert stats["sourceJobs"] == 1
    assert stats["idempotentReplays"] == 1


def test_a_failed_ingest_shows_scripes_reason_and_what_to_do(team, ingesting, tmp_path):
    ingesting.fail_next_jobs(code="transcription_failed")
    done = ingest_finish(file_source(team, tmp_path).pk)
    assert done.status == "failed"
    assert done.error_code == "transcription_failed"
    assert "no speech or text Scripe could transcribe" in done.error_shown
    assert "upload it again" in done.error_shown
    # Read later in German: both sentences translated, Scripe's reason as Scripe gave it.
    with translation.override("de"):
        german = done.error_shown
    assert german.startswith("Scripe konnte sie nicht aufnehmen: ")
    assert "no speech or text Scripe could transcribe" in german
    assert german.endswith("enthält, und laden Sie sie erneut hoch.")


def test_a_text_source_goes_to_scripe_at_once(team, ingesting):
    source = services.source_create_text(
        user=team.editor, project=team.project, text="We hired three people in March."
    )
    done = ingest_finish(source.pk)
    assert done.status == "ready"
    assert done.text_preview == "We hired three people in March."
    assert done.topics
    assert ingesting.stats()["sourceJobs"] == 0  # a text source is no job


def test_a_link_is_read_through_the_destination_rule_as_text(team, ingesting, monkeypatch):
    pages = {}

    def fetched(url, *, max_bytes, allow_local_hosts):
        pages[url] = allow_local_hosts
        return "How we plan a week of posts.\nThree lessons."

    monkeypatch.setattr(ingest, "fetch_text", fetched)
    source = services.source_create_url(
        user=team.editor, project=team.project, url="https://example.com/post"
    )
    done = ingest_finish(source.pk)
    assert done.status == "ready"
    assert done.text_preview.startswith("How we plan a week")
    assert list(pages) == ["https://example.com/post"]


def test_a_link_to_a_private_address_is_refused_before_anything(team, settings):
    settings.SCRIPE_ALLOW_LOCAL_HOSTS = False
    from calendar_app.core.refusals import Refusal

    with pytest.raises(Refusal) as refused:
        services.source_create_url(
            user=team.editor, project=team.project, url="http://127.0.0.1:8000/admin/"
        )
    assert "url" in refused.value.fields
    assert not Source.objects.exists()


def test_a_link_whose_name_does_not_resolve_is_said_so(team, settings, monkeypatch):
    from calendar_app.core.refusals import Refusal

    def nowhere(host, *args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    settings.SCRIPE_ALLOW_LOCAL_HOSTS = False
    monkeypatch.setattr(socket, "getaddrinfo", nowhere)
    with pytest.raises(Refusal) as refused:
        services.source_create_url(
            user=team.editor, project=team.project, url="https://example.com/post"
        )
    assert refused.value.fields["url"] == "We could not find example.com; check the address."
    assert not Source.objects.exists()


def test_nothing_of_the_file_is_logged(team, ingesting, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    ingesting.fail_next_jobs(code="transcription_failed")
    ingest_finish(file_source(team, tmp_path, name="secret-board-meeting.wav").pk)
    assert "secret-board-meeting" not in caplog.text


def test_the_dispatcher_hands_due_sources_to_a_task(team, ingesting, tmp_path, monkeypatch):
    handed = []
    monkeypatch.setattr(dispatch, "enqueue_sources", lambda ids: handed.append(ids))
    source = file_source(team, tmp_path)
    Source.objects.filter(pk=source.pk).update(dispatched_at=None)
    assert dispatch.generations_dispatch() == 1
    assert handed == [[source.pk]]
    assert dispatch.generations_dispatch() == 0  # marked: not handed on twice


def test_fifty_sources_waiting_on_scripe_hold_no_task(team, ingesting, tmp_path, monkeypatch):
    ingesting.sandbox.state.config.ingest_seconds = (30.0, 30.0)
    sources = []
    for i in range(50):
        path = tmp_path / f"{i}.tmp"
        path.write_bytes(wav_bytes(1))
        sources.append(
            services.source_create_file(
                user=team.editor,
                project=team.project,
                name="m.wav",
                size=path.stat().st_size,
                temporary_path=str(path),
            )
        )
    ingest.sources_advance([s.pk for s in sources])
    advanced = timezone.now()
    waiting = Source.objects.filter(status="ingesting", lease_until__isnull=True)
    assert waiting.count() == 50
    # Nothing is due for a while: the dispatcher hands on nothing, so no worker is busy. The
    # clock stands at the end of the advance, however long a busy machine took to get here.
    monkeypatch.setattr(dispatch, "enqueue_sources", lambda ids: pytest.fail("handed on"))
    Source.objects.update(dispatched_at=None)
    with time_machine.travel(advanced, tick=False):
        assert dispatch.generations_dispatch() == 0
        assert dispatch.seconds_until_due() > 0


def test_a_job_webhook_makes_the_sources_next_poll_due_now(team, tmp_path):
    from types import SimpleNamespace

    from calendar_app.pipeline import webhooks

    source = file_source(team, tmp_path)
    later = source.created_at.replace(year=source.created_at.year + 1)
    Source.objects.filter(pk=source.pk).update(scripe_job_id="job_abc", next_poll_at=later)
    event = SimpleNamespace(job=SimpleNamespace(id="job_abc"), type="job.completed", id="evt_1")
    assert webhooks._job_event(team.workspace.pk, event) == "source ingest job_abc due now"
    source.refresh_from_db()
    assert source.next_poll_at < later


def test_an_expired_upload_address_gets_a_new_upload_and_still_one_source(
    team, ingesting, tmp_path, monkeypatch
):
    real_put = ScripeClient.put_upload
    tries = []

    def expired_once(self, upload, path, *, size, **kwargs):
        tries.append(upload.id)
        if len(tries) == 1:
            raise ScripeError(code="upload_expired", message="Request has expired.")
        return real_put(self, upload, path, size=size, **kwargs)

    monkeypatch.setattr(ScripeClient, "put_upload", expired_once)
    source = file_source(team, tmp_path)
    done = ingest_finish(source.pk)
    assert done.status == "ready"
    assert len(set(tries)) == 2  # a second upload, not the spent address
    assert done.upload_round == 1 and done.idempotency_key.endswith("-1")
    stats = ingesting.stats()
    assert stats["uploads"] == 2 and stats["sourceJobs"] == 1


def test_an_unreachable_scripe_sends_the_whole_batch_waiting(team, ingesting, tmp_path):
    first, second = file_source(team, tmp_path), file_source(team, tmp_path)
    ingesting.sandbox.stop()  # nobody answers now
    ingest.sources_advance([first.pk, second.pk])
    for source in Source.objects.filter(pk__in=[first.pk, second.pk]):
        assert not source.finished and source.next_poll_at > source.created_at
        assert "could not be reached" in source.retry_reason
