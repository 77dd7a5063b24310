"""The "Connect with Scripe" and "Disconnect from Scripe" buttons on a workspace's admin page,
and the callback Scripe sends the admin back to: the state checked, the verifier kept in the
session, only the workspace's admins, POST only for the buttons. Against the sandbox."""

from __future__ import annotations

from html import unescape
from urllib.parse import parse_qsl, urlsplit

import pytest

from scripe_integration.models import ScripeConnection
from scripe_integration.services import connection_for
from tests.calendar_app.test_admin import grant
from tests.scripe_integration.oauth_support import connect, consent

CALLBACK = "/scripe/oauth/callback/"


@pytest.fixture
def staff(team):
    """Ada: staff, admin of Acme, with every model permission, not a superuser."""
    grant(team.admin, "view", "change", "add", "delete")
    return team.admin


def change_url(workspace) -> str:
    return f"/admin/calendar_app/workspace/{workspace.pk}/change/"


def connect_url(workspace) -> str:
    return f"/admin/calendar_app/workspace/{workspace.pk}/scripe/connect/"


def disconnect_url(workspace) -> str:
    return f"/admin/calendar_app/workspace/{workspace.pk}/scripe/disconnect/"


def stored(workspace) -> ScripeConnection:
    return ScripeConnection.objects.get(workspace=workspace)


def press_connect(client, workspace) -> str:
    response = client.post(connect_url(workspace))
    assert response.status_code == 302
    return response["Location"]


def back_from_scripe(client, answer: dict, *, follow=True):
    query = "&".join(f"{k}={v}" for k, v in answer.items())
    return client.get(f"{CALLBACK}?{query}", follow=follow)


def page_text(response) -> str:
    return unescape(response.content.decode())


def test_an_admin_connects_with_scripe_and_comes_back_connected(client, team, staff, sandbox):
    sandbox.wire(team.workspace)
    client.force_login(staff)

    authorize = press_connect(client, team.workspace)

    query = dict(parse_qsl(urlsplit(authorize).query))
    assert authorize.startswith(f"{sandbox.root_url}/oauth/authorize?")
    assert query["code_challenge_method"] == "S256"
    assert query["redirect_uri"] == f"http://testserver{CALLBACK}"
    pending = client.session["scripe_oauth"]
    assert pending["state"] == query["state"]
    assert pending["verifier"] not in authorize  # only the challenge leaves
    response = back_from_scripe(client, consent(authorize))

    assert response.redirect_chain[-1][0] == change_url(team.workspace)
    text = page_text(response)
    assert "Connected with Scripe: workspace Sandbox Workspace" in text
    assert "Disconnect from Scripe" in text
    assert "Yes (OAuth), to Scripe workspace Sandbox Workspace" in text
    connection = stored(team.workspace)
    assert connection.uses_oauth and not connection.has_key
    assert connection.oauth_connected_by == staff
    assert "scripe_oauth" not in client.session


def test_a_state_that_does_not_match_is_refused_and_nothing_changes(client, team, staff, sandbox):
    sandbox.wire(team.workspace)
    client.force_login(staff)
    answer = consent(press_connect(client, team.workspace))

    response = back_from_scripe(client, {**answer, "state": "forged"})

    assert response.redirect_chain[-1][0] == "/admin/"
    assert "does not match a connection started here" in page_text(response)
    connection = stored(team.workspace)
    assert not connection.uses_oauth and connection.has_key
    # The admin's own attempt is still waiting and still works.
    assert back_from_scripe(client, answer, follow=False)["Location"] == change_url(team.workspace)
    assert stored(team.workspace).uses_oauth


def test_a_callback_without_a_started_connection_is_refused(client, team, staff, sandbox):
    client.force_login(staff)

    response = back_from_scripe(client, {"code": "scripe_oac_x", "state": "x"})

    assert "does not match a connection started here" in page_text(response)
    assert not ScripeConnection.objects.filter(auth_method="oauth").exists()


def test_denying_in_scripe_changes_nothing(client, team, staff, sandbox):
    sandbox.wire(team.workspace)
    client.force_login(staff)

    answer = consent(press_connect(client, team.workspace), decision="deny")
    response = back_from_scripe(client, answer)

    assert "The connection was not approved in Scripe; nothing was changed." in page_text(response)
    assert stored(team.workspace).has_key


def test_an_admin_disconnects_and_the_workspace_needs_a_key_again(client, team, staff, sandbox):
    connect(sandbox, team.workspace)
    client.force_login(staff)

    response = client.post(disconnect_url(team.workspace), follow=True)

    assert "Disconnected from Scripe" in page_text(response)
    connection = stored(team.workspace)
    assert not connection.uses_oauth
    assert connection.key_state == ScripeConnection.KeyState.MISSING


def test_a_key_cannot_be_pasted_while_connected_by_oauth(client, team, staff, sandbox):
    connect(sandbox, team.workspace)
    client.force_login(staff)
    page = client.get(change_url(team.workspace))
    form = page.context["adminform"].form
    data = {
        "name": team.workspace.name,
        "time_zone": team.workspace.time_zone,
        **{k: v for k, v in form.initial.items() if isinstance(v, str | int | bool)},
    }
    inline = page.context["inline_admin_formsets"][0].formset
    data.update(
        {
            f"{inline.prefix}-TOTAL_FORMS": "1",
            f"{inline.prefix}-INITIAL_FORMS": "1",
            f"{inline.prefix}-0-id": str(stored(team.workspace).pk),
            f"{inline.prefix}-0-workspace": str(team.workspace.pk),
            f"{inline.prefix}-0-base_url": sandbox.base_url,
            f"{inline.prefix}-0-new_key": "scripe_sk_test_abcdefgh12345678",
        }
    )
    membership = page.context["inline_admin_formsets"][1].formset
    data.update(
        {f"{membership.prefix}-TOTAL_FORMS": "0", f"{membership.prefix}-INITIAL_FORMS": "0"}
    )

    response = client.post(change_url(team.workspace), data)

    assert response.status_code == 200
    assert "Press “Disconnect from Scripe” first" in page_text(response)
    assert stored(team.workspace).uses_oauth


def test_anonymous_people_are_sent_to_log_in(client, team):
    for url in (connect_url(team.workspace), disconnect_url(team.workspace)):
        response = client.post(url)
        assert response.status_code == 302 and "/admin/login/" in response["Location"]
    response = client.get(f"{CALLBACK}?code=x&state=y")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_an_admin_of_another_workspace_gets_a_404(client, team, sandbox):
    sandbox.wire(team.workspace)
    team.outsider.is_staff = True
    team.outsider.save()
    grant(team.outsider, "view", "change")
    client.force_login(team.outsider)

    assert client.post(connect_url(team.workspace)).status_code == 404
    assert client.post(disconnect_url(team.workspace)).status_code == 404
    assert "scripe_oauth" not in client.session


def test_the_callback_checks_the_admin_again(client, team, staff, sandbox):
    """Someone who lost the workspace between pressing Connect and coming back."""
    sandbox.wire(team.workspace)
    client.force_login(staff)
    answer = consent(press_connect(client, team.workspace))
    team.admin.memberships.all().delete()

    assert back_from_scripe(client, answer, follow=False).status_code == 404
    assert not stored(team.workspace).uses_oauth


def test_the_buttons_take_post_only(client, team, staff):
    client.force_login(staff)

    assert client.get(connect_url(team.workspace)).status_code == 405
    assert client.get(disconnect_url(team.workspace)).status_code == 405
    assert client.post(f"{CALLBACK}?code=x&state=y").status_code == 405


def test_scripe_not_answering_is_said_on_the_page(client, team, staff, settings):
    connection = connection_for(team.workspace)
    connection.base_url = "http://127.0.0.1:9/v1"  # nothing listens there
    connection.save()
    client.force_login(staff)

    response = client.post(connect_url(team.workspace), follow=True)

    assert "Could not start connecting with Scripe: Scripe could not be reached" in page_text(
        response
    )
    assert "scripe_oauth" not in client.session


def test_the_page_lets_its_connect_form_go_on_to_the_workspaces_scripe_only(
    client, team, staff, sandbox, settings
):
    # form-action covers the redirect to Scripe's authorize page, so without this the
    # browser refuses to follow "Connect with Scripe".
    sandbox.wire(team.workspace)
    client.force_login(staff)

    policy = client.get(change_url(team.workspace))["Content-Security-Policy"]

    assert f"form-action 'self' {sandbox.root_url};" in policy
    assert policy.replace(f" {sandbox.root_url}", "") == settings.CONTENT_SECURITY_POLICY


def test_a_manager_who_is_not_the_workspaces_admin_gets_a_404(client, team, sandbox):
    sandbox.wire(team.workspace)
    team.manager.is_staff = True
    team.manager.save()
    grant(team.manager, "view", "change")
    client.force_login(team.manager)

    assert client.post(connect_url(team.workspace)).status_code == 404
    assert client.post(disconnect_url(team.workspace)).status_code == 404


def test_someone_without_the_admin_gets_the_login_page_at_the_callback(client, team):
    client.force_login(team.editor)  # not staff

    response = client.get(f"{CALLBACK}?code=x&state=y")

    assert response.status_code == 302 and "/admin/login/" in response["Location"]
