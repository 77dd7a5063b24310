"""Projects mirrored from Scripe: the sync service against the sandbox, and its page."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from calendar_app.models import Project
from calendar_app.planning.services import projects_sync
from scripe_integration.contract import ScripeError
from scripe_integration.services import connection_for

LENA = "proj_01JSANDBOXPROJ000000000001"


@pytest.fixture
def wired(team, sandbox):
    """The team's workspace pointed at a fresh sandbox with a valid key."""
    sandbox.wire(team.workspace)
    Project.objects.filter(workspace=team.workspace).delete()
    return sandbox


def test_sync_creates_every_project_with_its_type_and_status(team, wired):
    result = projects_sync(workspace=team.workspace)
    assert (result.created, result.updated, result.missing) == (3, 0, 0)
    projects = {p.scripe_id: p for p in Project.objects.filter(workspace=team.workspace)}
    assert projects[LENA].name == "Lena Fischer"
    assert projects[LENA].type == "PERSONAL_BRAND"
    assert projects["proj_01JSANDBOXPROJ000000000002"].type_label == "Company page"
    assert len({p.colour for p in projects.values()}) == 3


@pytest.mark.parametrize(
    "url",
    ["javascript:alert(1)", "https://www.linkedin.com/in/" + "x" * 500, "ftp://example.com/x"],
)
def test_a_link_that_cannot_be_stored_or_shown_safely_is_dropped(team, wired, url):
    wired.patch_project(LENA, url=url)
    projects_sync(workspace=team.workspace)  # no 500 on PostgreSQL for an over-long link
    assert Project.objects.get(workspace=team.workspace, scripe_id=LENA).linkedin_url == ""


def test_a_second_sync_updates_status_and_flags_what_scripe_dropped(team, wired):
    projects_sync(workspace=team.workspace)
    gone = Project.objects.create(workspace=team.workspace, scripe_id="proj_gone", name="Gone")
    wired.patch_project(LENA, status="PAUSED", name="Lena F.")
    result = projects_sync(workspace=team.workspace)
    assert (result.created, result.updated, result.missing) == (0, 3, 1)
    lena = Project.objects.get(scripe_id=LENA)
    assert (lena.name, lena.status, lena.is_active) == ("Lena F.", "PAUSED", False)
    assert "paused in Scripe" in lena.inactive_reason
    gone.refresh_from_db()
    assert gone.missing_from_scripe and not gone.is_active


def test_sync_with_a_revoked_key_marks_the_key_invalid(team, wired):
    wired.revoke(wired.key)
    with pytest.raises(ScripeError):
        projects_sync(workspace=team.workspace)
    connection = connection_for(team.workspace)
    assert connection.key_state == "invalid"
    assert connection.key_error_code == "key_revoked"


def test_sync_records_the_rate_limit_scripe_reported(team, wired):
    projects_sync(workspace=team.workspace)
    connection = connection_for(team.workspace)
    assert connection.rate_limit == 120
    assert connection.rate_limit_remaining == 119


# the page and the button -----------------------------------------------------------------------


def test_the_page_lists_projects_with_the_reason_an_inactive_one_is_closed(client, team):
    client.force_login(team.editor)
    html = client.get("/projects/").content.decode()
    assert "Lena Fischer" in html
    assert "This project is paused in Scripe" in html
    assert "Globex page" not in html
    assert "Sync from Scripe" not in html  # editors cannot sync


def test_a_manager_syncs_from_the_page(client, team, wired):
    client.force_login(team.manager)
    response = client.post(f"/projects/sync/{team.workspace.public_id}/", follow=True)
    assert "Projects synced from Scripe: 3 new, 0 updated." in response.content.decode()


def test_an_editor_may_not_sync(client, team):
    client.force_login(team.editor)
    response = client.post(f"/projects/sync/{team.workspace.public_id}/")
    assert response.status_code == 403
    assert Project.objects.filter(workspace=team.workspace).count() == 2


def test_an_outsider_gets_404_for_another_workspace(client, team):
    client.force_login(team.outsider)
    assert client.post(f"/projects/sync/{team.workspace.public_id}/").status_code == 404


def test_sync_without_a_key_says_what_to_do(client, team):
    client.force_login(team.manager)
    response = client.post(f"/projects/sync/{team.workspace.public_id}/", follow=True)
    assert "no Scripe API key yet" in response.content.decode()


def test_sync_when_scripe_is_down_says_so(client, team, wired):
    wired.fault("GET /v1/projects", count=1, status=503)
    client.force_login(team.manager)
    response = client.post(f"/projects/sync/{team.workspace.public_id}/", follow=True)
    assert "Sync failed: Scripe had a temporary problem" in response.content.decode()


def test_sync_needs_post(client, team):
    client.force_login(team.manager)
    assert client.get(f"/projects/sync/{team.workspace.public_id}/").status_code == 405


def test_the_command_syncs_workspaces_with_a_key_and_skips_the_rest(team, wired):
    out = StringIO()
    call_command("sync_projects", stdout=out)
    assert "Acme: 3 new, 0 updated." in out.getvalue()
    assert "Globex: skipped, no Scripe key." in out.getvalue()


def test_the_command_fails_loudly_when_scripe_refuses(team, wired):
    wired.revoke(wired.key)
    with pytest.raises(CommandError, match="1 workspace"):
        call_command("sync_projects", "--workspace", "Acme", stdout=StringIO(), stderr=StringIO())
