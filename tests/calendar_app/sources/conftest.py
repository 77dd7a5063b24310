"""Sources' fixtures: files on disk, a schedule for the queue, and running an ingest through."""

from __future__ import annotations

import io
import time
import wave
from datetime import time as clock

import pytest
from django.utils import timezone

from calendar_app.models import ScheduleTime, Source
from calendar_app.pipeline import dispatch
from calendar_app.sources import services


def wav_bytes(seconds: int = 3) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as audio:
        audio.setnchannels(1)
        audio.setsampwidth(2)
        audio.setframerate(8000)
        audio.writeframes(b"\0\1" * 8000 * seconds)
    return buffer.getvalue()


@pytest.fixture(autouse=True)
def _source_dir(settings, tmp_path):
    settings.SOURCE_UPLOAD_DIR = str(tmp_path / "sources")


@pytest.fixture
def ingesting(team, sandbox_factory, monkeypatch):
    """A fast-ingesting sandbox wired to the team's workspace; tasks are run by the test."""
    sandbox = sandbox_factory(ingest_seconds=(0.3, 0.5), queue_seconds=0.1)
    sandbox.wire(team.workspace)
    monkeypatch.setattr(dispatch, "enqueue", lambda ids: None)
    monkeypatch.setattr(dispatch, "enqueue_sources", lambda ids: None)
    return sandbox


@pytest.fixture
def scheduled_project(team):
    """The team's project posts every day at 09:00 (its queue)."""
    for weekday in range(7):
        ScheduleTime.objects.create(project=team.project, weekday=weekday, time=clock(9))
    return team.project


def file_source(team, tmp_path, *, name="memo.wav", data: bytes | None = None) -> Source:
    path = tmp_path / "upload.tmp"
    path.write_bytes(wav_bytes() if data is None else data)
    return services.source_create_file(
        user=team.editor,
        project=team.project,
        name=name,
        size=path.stat().st_size,
        temporary_path=str(path),
    )


def ingest_finish(source_id: int, seconds: float = 20) -> Source:
    """Advances a source step by step, as the dispatcher and its tasks would, until done."""
    from calendar_app.sources.ingest import source_advance

    deadline = time.monotonic() + seconds
    while True:
        source_advance(source_id)
        source = Source.objects.get(pk=source_id)
        if source.finished:
            return source
        assert time.monotonic() < deadline, f"source {source_id} unfinished: {source.status}"
        wait = (
            (source.next_poll_at - timezone.now()).total_seconds() if source.next_poll_at else 0.1
        )
        time.sleep(min(max(wait, 0.02), max(0.0, deadline - time.monotonic())))


TOPICS = [
    {
        "id": "tpc_1",
        "title": "Planning content ahead",
        "summary": "Why a planned week beats a scramble.",
        "keyTakeaways": ["Plan on Fridays.", "Keep a backlog."],
        "fromSeconds": 0,
        "toSeconds": 60,
        "hooks": [
            {"id": "hk_a", "content": "I used to plan posts the day they were due."},
            {"id": "hk_b", "content": "Here is what nobody tells you about planning."},
        ],
    },
    {
        "id": "tpc_2",
        "title": "Hiring through stories",
        "summary": "",
        "keyTakeaways": [],
        "hooks": [{"id": "hk_c", "content": "Three hires found us through one post."}],
    },
]


def ready_source(team, *, workspace=None, project=None) -> Source:
    """A source Scripe has transcribed, with two topics and three hooks."""
    project = project or team.project
    return Source.objects.create(
        workspace=workspace or project.workspace,
        project=project,
        kind="file",
        name="founder-memo.wav",
        content_type="audio/wav",
        size_bytes=1000,
        status="ready",
        finished=True,
        scripe_source_id="src_01READY",
        text_preview="Most teams plan content the week it is due.",
        duration_seconds=482,
        topics=TOPICS,
        created_by=team.editor,
    )
