"""The workspace archive: what goes in (and what never does), and that an archive imported
after the workspace was deleted gives the same calendar back."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from calendar_app.models import (
    GenerationJob,
    Label,
    PlannedSlot,
    Series,
    SlotEvent,
    WebhookEndpoint,
    Workspace,
)
from calendar_app.portability.archive import (
    FORMAT_VERSION,
    TABLES,
    ArchiveError,
    archive_bytes,
    import_archive,
)
from calendar_app.portability.services import workspace_delete
from scripe_integration.models import ScripeConnection
from tests.calendar_app.portability.conftest import POST_TEXT, SCRIPE_KEY


def _tables(data: bytes) -> tuple[dict, dict]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        tables = {
            name[len("tables/") : -len(".json")]: json.loads(archive.read(name))
            for name in archive.namelist()
            if name.startswith("tables/")
        }
    return manifest, tables


def test_it_holds_the_whole_workspace_with_a_manifest(team, filled):
    manifest, tables = _tables(archive_bytes(team.workspace))
    assert manifest["format_version"] == FORMAT_VERSION
    assert manifest["workspace"]["public_id"] == str(team.workspace.public_id)
    assert manifest["tables"]["posts"] == 3 == len(tables["posts"])
    generation = tables["generations"][0]
    assert generation["post_content"] == POST_TEXT
    assert {e["text"] for e in tables["trail"]} >= {"Lovely."}
    assert tables["labels"][0]["name"] == "Hiring"
    assert len(tables["labels"][0]["slots"]) == 2
    assert tables["schedule_times"][0]["time"] == "09:30:00"
    assert len(tables["series"]) == len(tables["series_occurrences"]) == 1
    assert {m["role"] for m in tables["members"]} == {"editor", "manager", "admin"}
    assert {p["email"] for p in tables["people"]} == {
        "erin@example.com",
        "max@example.com",
        "ada@example.com",
    }
    assert tables["sources"][0]["name"] == "Talk"
    assert tables["knowledge_documents"][0]["name"] == "Tone of voice"
    assert tables["webhook_endpoints"][0]["url"] == "http://127.0.0.1:9/h"
    # Only this workspace: the other team's project is not in it.
    assert [p["name"] for p in tables["projects"]] == ["Lena Fischer", "Paused"]


def test_it_never_carries_a_secret(team, filled):
    data = archive_bytes(team.workspace)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        text = "".join(archive.read(n).decode() for n in archive.namelist())
    connection_row = ScripeConnection.objects.get(workspace=team.workspace)
    endpoint = WebhookEndpoint.objects.get(workspace=team.workspace)
    for secret in [
        SCRIPE_KEY,
        SCRIPE_KEY[-4:] + '"',
        connection_row.encrypted_key,
        filled.webhook_secret,
        endpoint.secret_encrypted,
        "f" * 64,  # an API token's hash
        "UPLOADSECRET",
        str(filled.source_file),
        "pbkdf2",
        "password",
    ]:
        assert secret not in text
    _manifest, tables = _tables(data)
    assert "secret_encrypted" not in tables["webhook_endpoints"][0]
    assert "local_path" not in tables["sources"][0]


def test_it_reads_each_table_with_a_constant_number_of_queries(team, filled):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            archive_bytes(team.workspace)
        return len(captured)

    before = queries()
    # One query per table, one per many-to-many field, one for the people.
    many_to_many = sum(len(t.model._meta.many_to_many) for t in TABLES)
    assert before == len(TABLES) + many_to_many + 1
    for day in range(10):
        slot = team.slot(filled.slots[0].scheduled_for.replace(day=1 + day))
        filled.label.slots.add(slot)
        SlotEvent.objects.create(slot=slot, actor=team.manager, kind="comment", text="More")
    assert queries() == before


def _calendar(workspace: Workspace) -> list[tuple]:
    """What the calendar shows of a workspace, by values that survive new ids."""
    return [
        (
            str(s.public_id),
            s.scheduled_for,
            s.status,
            s.project.scripe_id,
            s.note.text,
            s.note.author.email,
            sorted(label.name for label in s.labels.all()),
            [(j.attempt, j.post_content) for j in GenerationJob.objects.filter(slot=s)],
            [
                (e.kind, e.text, e.status, e.actor.email if e.actor else None, e.created_at)
                for e in s.events.all()
            ],
            getattr(getattr(s, "occurrence", None), "index", None),
            str(s.idea.public_id) if s.idea else None,
        )
        for s in PlannedSlot.objects.filter(workspace=workspace).order_by("scheduled_for")
    ]


def test_export_delete_import_gives_the_same_calendar(team, filled):
    before = _calendar(team.workspace)
    series_before = list(Series.objects.values_list("public_id", "weekdays", "clock"))
    data = archive_bytes(team.workspace)
    workspace_delete(workspace=team.workspace)
    assert not PlannedSlot.objects.filter(workspace_id=team.workspace.pk).exists()

    result = import_archive(io.BytesIO(data))

    assert result.workspace.public_id == team.workspace.public_id
    assert result.workspace.time_zone == "Europe/Berlin"
    assert _calendar(result.workspace) == before
    assert list(Series.objects.values_list("public_id", "weekdays", "clock")) == series_before
    assert Label.objects.get(workspace=result.workspace).series.count() == 1
    # Everyone was still a user of the site: the same accounts, the same roles.
    assert result.created_people == []
    roles = dict(result.workspace.memberships.values_list("user__username", "role"))
    assert roles == {"erin": "editor", "max": "manager", "ada": "admin"}
    # The endpoint came back without its old secret: off until an admin rotates it.
    endpoint = WebhookEndpoint.objects.get(workspace=result.workspace)
    assert not endpoint.is_active and "rotate" in endpoint.disabled_reason


def test_an_import_beside_the_original_gets_new_ids_and_unknown_people_inactive(team, filled):
    data = archive_bytes(team.workspace)
    team.editor.email = "erin.new@example.com"
    team.editor.save()

    result = import_archive(io.BytesIO(data))

    assert result.workspace.pk != team.workspace.pk
    assert result.workspace.public_id != team.workspace.public_id
    assert PlannedSlot.objects.filter(workspace=result.workspace).count() == 3
    assert result.created_people == ["erin@example.com"]
    created = type(team.editor).objects.get(email="erin@example.com")
    assert not created.is_active and not created.has_usable_password()
    # The original is untouched.
    assert PlannedSlot.objects.filter(workspace=team.workspace).count() == 3


@pytest.mark.parametrize(
    "content", [b"not a zip", b"PK\x05\x06" + b"\x00" * 18], ids=["garbage", "empty-zip"]
)
def test_it_refuses_a_file_that_is_not_an_archive(db, content):
    with pytest.raises(ArchiveError):
        import_archive(io.BytesIO(content))
    assert not Workspace.objects.exists()


def test_an_erased_persons_work_comes_back_by_the_one_former_member(team, filled):
    from calendar_app.portability.people import FORMER_MEMBER_USERNAME
    from calendar_app.portability.services import person_erase

    person_erase(email="erin@example.com")
    data = archive_bytes(team.workspace)
    workspace_delete(workspace=team.workspace)

    result = import_archive(io.BytesIO(data))

    assert result.created_people == []
    comment = SlotEvent.objects.get(text="Lovely.")
    assert comment.actor.username == FORMER_MEMBER_USERNAME
    assert type(team.admin).objects.filter(username__startswith="former-member").count() == 1
