"""A workspace with something of everything an archive carries, and secrets it must not."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

import pytest
from django.utils import timezone

from calendar_app.models import (
    ApiToken,
    GenerationJob,
    Idea,
    KnowledgeDocument,
    Label,
    Notification,
    NotificationKind,
    QueueEntry,
    ScheduleTime,
    Series,
    SeriesOccurrence,
    SlotEvent,
    Source,
)
from calendar_app.outbound import services as outbound
from scripe_integration.services import connection_for

SCRIPE_KEY = "scripe_sk_live_" + "K" * 28 + "SEKR"
POST_TEXT = "We hired our first engineer in Lisbon. Here is what we learned."


@dataclass
class Filled:
    slots: list
    label: Label
    source: Source
    source_file: object
    webhook_secret: str


@pytest.fixture
def filled(team, settings, tmp_path) -> Filled:
    settings.OUTGOING_WEBHOOKS_ALLOW_LOCAL = True
    settings.EXPORT_DIR = str(tmp_path / "exports")
    team.editor.email = "erin@example.com"
    team.editor.save()
    team.manager.email = "max@example.com"
    team.manager.save()
    team.admin.email = "ada@example.com"
    team.admin.save()
    workspace = team.workspace
    connection = connection_for(workspace)
    connection.set_key(SCRIPE_KEY)
    connection.save()

    base = timezone.now().replace(microsecond=0) + dt.timedelta(days=5)
    first = team.slot(base, text="Our Lisbon hiring story.")
    second = team.slot(base + dt.timedelta(days=1), status="scheduled", text="A second note.")
    third = team.slot(base + dt.timedelta(days=2), text="Third, from the series.")
    GenerationJob.objects.create(
        slot=second,
        idempotency_key=uuid.uuid4().hex,
        requested_by=team.editor,
        post_id="post_1",
        post_title="Lisbon",
        post_content=POST_TEXT,
        finished=True,
    )
    label = Label.objects.create(workspace=workspace, name="Hiring", colour=2)
    label.slots.add(first, second)
    ScheduleTime.objects.create(project=team.project, weekday=1, time=dt.time(9, 30))
    QueueEntry.objects.create(slot=first)
    SlotEvent.objects.create(slot=second, actor=team.editor, kind="comment", text="Lovely.")
    SlotEvent.objects.create(slot=second, actor=team.manager, kind="status", status="scheduled")
    series = Series.objects.create(
        workspace=workspace,
        project=team.project,
        note=third.note,
        created_by=team.manager,
        starts_on=base.date(),
        clock=dt.time(9),
        frequency="weekly",
        weekdays="0",
    )
    series.labels.add(label)
    SeriesOccurrence.objects.create(series=series, index=1, occurs_on=base.date(), slot=third)
    source_file = tmp_path / "talk.txt"
    source_file.write_text("A talk transcript.")
    source = Source.objects.create(
        workspace=workspace,
        project=team.project,
        slot=first,
        kind="text",
        name="Talk",
        local_path=str(source_file),
        upload_url="https://uploads.example.com/signed?sig=UPLOADSECRET",
        created_by=team.editor,
    )
    idea = Idea.objects.create(
        workspace=workspace, project=team.project, owner=team.editor, text="An idea", source=source
    )
    idea.labels.add(label)
    first.idea = idea
    first.save()
    KnowledgeDocument.objects.create(
        workspace=workspace,
        kind="text",
        name="Tone of voice",
        text="Short sentences.",
        idempotency_key=uuid.uuid4().hex,
        added_by=team.admin,
    )
    _endpoint, secret = outbound.endpoint_create(
        workspace=workspace, user=team.admin, url="http://127.0.0.1:9/h", events=["post.planned"]
    )
    ApiToken.objects.create(
        user=team.editor,
        workspace=workspace,
        name="CLI",
        token_hash="f" * 64,
        scopes="read",
        hint="f…ff",
    )
    Notification.objects.create(
        user=team.editor,
        workspace=workspace,
        slot=second,
        kind=NotificationKind.values[0],
        text="Max changed a post.",
    )
    return Filled([first, second, third], label, source, source_file, secret)
