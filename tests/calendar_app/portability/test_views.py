"""The exports page: an admin starts an export and downloads it while it lasts; nobody else
sees another workspace's archive, not even its editors and managers."""

from __future__ import annotations

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from calendar_app.models import EXPORT_KEEP, WorkspaceExport
from calendar_app.portability import services


@pytest.fixture
def ready(team, filled) -> WorkspaceExport:
    export = WorkspaceExport.objects.create(workspace=team.workspace, requested_by=team.admin)
    services.workspace_export_build(export_id=export.pk)
    export.refresh_from_db()
    return export


def _start(team) -> str:
    return reverse("export_start", args=[team.workspace.public_id])


def test_an_admin_starts_an_export_and_sees_it_being_prepared(
    client, team, filled, django_capture_on_commit_callbacks
):
    client.force_login(team.admin)
    with django_capture_on_commit_callbacks() as callbacks:
        answer = client.post(_start(team))
    assert (answer.status_code, answer["Location"]) == (302, reverse("exports"))
    assert len(callbacks) == 1
    page = client.get(reverse("exports")).content.decode()
    assert "Being prepared" in page and 'hx-trigger="every 2s"' in page


def test_the_htmx_start_answers_with_the_list_only(client, team, filled, monkeypatch):
    monkeypatch.setattr(services, "_enqueue", lambda pk: None)
    client.force_login(team.admin)
    answer = client.post(_start(team), headers={"HX-Request": "true"})
    body = answer.content.decode()
    assert answer.status_code == 200
    assert body.lstrip().startswith('<div id="export-list">') and "<html" not in body
    assert "toast" in answer["HX-Trigger"]


def test_a_second_export_while_one_is_prepared_is_refused(client, team, filled, monkeypatch):
    monkeypatch.setattr(services, "_enqueue", lambda pk: None)
    client.force_login(team.admin)
    client.post(_start(team))
    answer = client.post(_start(team), follow=True)
    assert "already being prepared" in answer.content.decode()
    assert WorkspaceExport.objects.count() == 1


def test_an_admin_downloads_the_archive(client, team, ready):
    client.force_login(team.admin)
    page = client.get(reverse("exports")).content.decode()
    assert reverse("export_download", args=[ready.public_id]) in page
    answer = client.get(reverse("export_download", args=[ready.public_id]))
    assert answer.status_code == 200
    assert answer["Content-Disposition"].startswith("attachment;")
    assert b"".join(answer.streaming_content)[:2] == b"PK"


@pytest.mark.parametrize("who", ["editor", "manager", "outsider"])
def test_nobody_but_its_admins_may_download_or_start_it(client, team, ready, who):
    client.force_login(getattr(team, who))
    assert client.get(reverse("export_download", args=[ready.public_id])).status_code == 404
    assert client.post(_start(team)).status_code in (403, 404)
    assert WorkspaceExport.objects.count() == 1
    assert str(ready.public_id) not in client.get(reverse("exports")).content.decode()


def test_the_editors_start_is_forbidden_and_the_outsiders_not_found(client, team, filled):
    client.force_login(team.editor)
    assert client.post(_start(team)).status_code == 403
    client.force_login(team.outsider)
    assert client.post(_start(team)).status_code == 404
    assert not WorkspaceExport.objects.exists()


def test_an_expired_archive_is_gone(client, team, ready):
    client.force_login(team.admin)
    with time_machine.travel(timezone.now() + EXPORT_KEEP + timezone.timedelta(seconds=1)):
        answer = client.get(reverse("export_download", args=[ready.public_id]), follow=True)
        assert "has expired" in answer.content.decode()
        assert "Expired" in client.get(reverse("exports")).content.decode()


def test_anonymous_people_are_sent_to_log_in(client, team, ready):
    for url in [
        reverse("exports"),
        reverse("export_download", args=[ready.public_id]),
    ]:
        assert client.get(url)["Location"].startswith(reverse("login"))
    assert client.post(_start(team))["Location"].startswith(reverse("login"))


def test_wrong_methods_are_refused(client, team, ready):
    client.force_login(team.admin)
    assert client.get(_start(team)).status_code == 405
    assert client.post(reverse("exports")).status_code == 405
    assert client.post(reverse("export_download", args=[ready.public_id])).status_code == 405


def test_the_settings_page_links_admins_to_exports(client, team):
    client.force_login(team.admin)
    assert reverse("exports") in client.get(reverse("settings")).content.decode()
    client.force_login(team.editor)
    assert reverse("exports") not in client.get(reverse("settings")).content.decode()


def test_the_page_takes_the_same_queries_for_more_exports(
    client, team, filled, django_assert_max_num_queries
):
    client.force_login(team.admin)
    client.get(reverse("exports"))
    with django_assert_max_num_queries(12) as captured:
        client.get(reverse("exports"))
    few = len(captured)
    for _ in range(5):
        WorkspaceExport.objects.create(workspace=team.workspace, status="failed")
    with django_assert_max_num_queries(few):
        client.get(reverse("exports"))


def test_an_archive_gone_from_disk_is_gone_not_an_error(client, team, ready):
    import os

    os.unlink(ready.path)
    client.force_login(team.admin)
    answer = client.get(reverse("export_download", args=[ready.public_id]))
    assert (answer.status_code, answer["Location"]) == (302, reverse("exports"))
