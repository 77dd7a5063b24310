"""Deleting a workspace with everything in it, erasing a person, and the export's task."""

from __future__ import annotations

import io
import zipfile

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.utils import timezone
from django_q.models import OrmQ
from django_q.tasks import async_task

from calendar_app.core.refusals import Refusal
from calendar_app.models import (
    ApiToken,
    ExportStatus,
    GenerationJob,
    Idea,
    Membership,
    Notification,
    PlannedSlot,
    Project,
    SlotEvent,
    SourceNote,
    Workspace,
    WorkspaceExport,
)
from calendar_app.portability import services
from calendar_app.portability.people import FORMER_MEMBER_NAME
from calendar_app.portability.services import (
    person_erase,
    workspace_contents,
    workspace_delete,
)


def test_the_contents_list_what_a_deletion_deletes(team, filled):
    counts = workspace_contents(team.workspace)
    assert counts["posts"] == 3
    assert counts["projects"] == 2
    assert counts["labels"] == 1
    assert counts["series"] == 1
    assert counts["memberships"] == 3
    # Nothing was deleted by counting.
    assert PlannedSlot.objects.filter(workspace=team.workspace).count() == 3


def test_deleting_a_workspace_removes_everything_its_files_and_its_queued_tasks(
    team, filled, settings
):
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "orm": "default", "sync": False}
    settings.Q_CLUSTER.pop("redis", None)
    job = GenerationJob.objects.get()
    async_task("calendar_app.tasks.advance_generations", [job.pk], sync=False)
    async_task("calendar_app.tasks.sync_workspace", team.other_workspace.pk, sync=False)
    other_slot = team.slot(timezone.now(), project=team.foreign_project)
    assert filled.source_file.exists()

    deletion = workspace_delete(workspace=team.workspace)

    assert deletion.counts["posts"] == 3
    assert deletion.files_removed == 1
    assert not filled.source_file.exists()
    assert deletion.tasks_dropped == 1
    assert [t.task["args"] for t in OrmQ.objects.all()] == [(team.other_workspace.pk,)]
    assert not Workspace.objects.filter(pk=team.workspace.pk).exists()
    for model in (SourceNote, Idea):
        assert not model.objects.filter(workspace_id=team.workspace.pk).exists()
    assert not SlotEvent.objects.exists()
    assert not PlannedSlot.objects.exclude(pk=other_slot.pk).exists()
    assert not Project.objects.filter(workspace_id=team.workspace.pk).exists()
    assert not ApiToken.objects.exists()
    # The other workspace and the people are untouched.
    assert PlannedSlot.objects.get() == other_slot
    assert get_user_model().objects.filter(pk=team.editor.pk).exists()


def test_the_delete_workspace_command_lists_counts_and_asks_first(team, filled, monkeypatch):
    out = io.StringIO()
    monkeypatch.setattr("builtins.input", lambda prompt: "Not the name")
    with pytest.raises(CommandError, match="nothing was deleted"):
        call_command("delete_workspace", str(team.workspace.public_id), stdout=out)
    assert "posts: 3" in out.getvalue()
    assert Workspace.objects.filter(pk=team.workspace.pk).exists()

    call_command("delete_workspace", str(team.workspace.public_id), "--yes", stdout=out)
    assert not Workspace.objects.filter(pk=team.workspace.pk).exists()
    with pytest.raises(CommandError, match="not a workspace id"):
        call_command("delete_workspace", "acme")


def test_the_admin_action_confirms_with_counts_then_deletes(team, filled):
    operator = get_user_model().objects.create_superuser("root", "root@example.com", "pw")
    browser = Client()
    browser.force_login(operator)
    changelist = "/admin/calendar_app/workspace/"
    asked = browser.post(
        changelist,
        {"action": "delete_with_everything", "_selected_action": [team.workspace.pk]},
    )
    assert asked.status_code == 200
    assert "Posts: 3" in asked.content.decode()
    assert Workspace.objects.filter(pk=team.workspace.pk).exists()

    done = browser.post(
        changelist,
        {
            "action": "delete_with_everything",
            "_selected_action": [team.workspace.pk],
            "confirmed": "yes",
        },
        follow=True,
    )
    assert "Acme deleted: 3 posts" in done.content.decode()
    assert not Workspace.objects.filter(pk=team.workspace.pk).exists()


def test_a_workspace_admin_is_not_offered_the_operators_deletion(team, filled):
    browser = Client()
    browser.force_login(team.admin)
    page = browser.get("/admin/calendar_app/workspace/")
    assert "delete_with_everything" not in page.content.decode()


def test_erasing_a_person_keeps_their_work_by_a_former_member(team, filled):
    browser = Client()
    browser.force_login(team.editor)
    assert Session.objects.count() == 1
    comment = SlotEvent.objects.get(text="Lovely.")

    erasure = person_erase(email="ERIN@example.com")

    assert not get_user_model().objects.filter(pk=team.editor.pk).exists()
    comment.refresh_from_db()
    assert comment.actor.get_full_name() == FORMER_MEMBER_NAME
    assert comment.who == FORMER_MEMBER_NAME
    assert not comment.actor.is_active
    # Their posts and notes stay, attributed to the former member.
    assert PlannedSlot.objects.filter(workspace=team.workspace).count() == 3
    assert {s.created_by.username for s in PlannedSlot.objects.all()} == {"former-member"}
    assert not Membership.objects.filter(user_id=team.editor.pk).exists()
    assert not ApiToken.objects.exists()
    assert not Notification.objects.exists()
    assert erasure.sessions == 1 and not Session.objects.exists()
    assert browser.get("/").status_code == 302  # logged out
    # A second erasure reuses the one former member.
    person_erase(email="max@example.com")
    assert get_user_model().objects.filter(username="former-member").count() == 1


def test_erasing_an_unknown_person_says_so(db):
    with pytest.raises(Refusal, match="Nobody"):
        person_erase(email="nobody@example.com")
    with pytest.raises(CommandError, match="Nobody"):
        call_command("erase_person", "nobody@example.com")


def test_the_task_writes_the_archive_once_and_it_expires_a_day_later(team, filled):
    export = WorkspaceExport.objects.create(workspace=team.workspace, requested_by=team.admin)

    assert services.workspace_export_build(export_id=export.pk) == "ready"
    assert services.workspace_export_build(export_id=export.pk) == "not pending"

    export.refresh_from_db()
    assert export.status == ExportStatus.READY and export.is_downloadable
    with zipfile.ZipFile(export.path) as archive:
        assert "manifest.json" in archive.namelist()
    with time_machine.travel(timezone.now() + services.EXPORT_KEEP + timezone.timedelta(minutes=1)):
        export.refresh_from_db()
        assert not export.is_downloadable
        assert services.exports_forget() == 1
    export.refresh_from_db()
    assert export.path == ""
    assert not list((services.export_dir()).iterdir())


def test_one_export_at_a_time(team, filled, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        services.workspace_export_request(workspace=team.workspace, user=team.admin)
    assert len(callbacks) == 1
    with pytest.raises(Refusal, match="already being prepared"):
        services.workspace_export_request(workspace=team.workspace, user=team.admin)
    assert WorkspaceExport.objects.count() == 1


def test_the_import_command_says_what_it_made(team, filled, tmp_path):
    from calendar_app.portability.archive import archive_bytes

    path = tmp_path / "acme.zip"
    path.write_bytes(archive_bytes(team.workspace))
    workspace_delete(workspace=team.workspace)
    out = io.StringIO()
    call_command("import_workspace", str(path), stdout=out)
    assert "Imported Acme" in out.getvalue() and "3 posts" in out.getvalue()
    with pytest.raises(CommandError, match="No such file"):
        call_command("import_workspace", str(tmp_path / "missing.zip"))
