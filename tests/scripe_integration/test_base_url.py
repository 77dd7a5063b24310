"""The Scripe base URL a workspace admin types is where the server sends the workspace's key
(#24): it must be https on the public internet, checked when it is saved and again right
before each connection (a name that resolves differently later, DNS rebinding, reaches
nothing private), and whatever is wrong with it reads the same, so pressing Verify cannot map
which hosts and ports the server reaches. Local addresses only with SCRIPE_ALLOW_LOCAL_HOSTS
(development, the sandbox, these tests' default)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from calendar_app.pipeline import dispatch, generation
from scripe_integration.client import ScripeClient
from scripe_integration.contract import ScripeError
from scripe_integration.models import ScripeConnection
from scripe_integration.services import connection_for, key_verify, projects_fetch
from tests.calendar_app.test_admin import grant
from tests.scripe_integration.conftest import PUBLIC, closed_port
from tests.scripe_integration.test_keys import change_form

KEY = "scripe_sk_live_8f3aQ2bX7cLmN9pRd401"
REFUSED = "Use an https address on the public internet, such as https://api.scripe.io/v1."
NOT_REACHED = (
    "Could not verify the key: Scripe could not be reached at this address. Check that the "
    "base URL is Scripe's API root, such as https://api.scripe.io/v1, and try again in a minute."
)

HTTP = b"HTTP/1.1 "  # the start of an answer from a web server that is not Scripe
# Addresses the server may not call, with {port} a port on this machine that counts who
# connects to it.
FORBIDDEN = {
    "plain http to this machine": "http://127.0.0.1:{port}/v1",
    "a private address": "https://10.0.0.1/v1",
    "the cloud metadata address": "https://169.254.169.254/v1",
    "IPv6 loopback": "https://[::1]:{port}/v1",
    "localhost": "https://localhost:{port}/v1",
    "IPv4-mapped loopback": "https://[::ffff:127.0.0.1]:{port}/v1",
    "shared address space (CGNAT)": "https://100.64.0.1/v1",
    "a name resolving to a private address": "https://intranet.example/v1",
    "a name resolving to this machine": "https://loopback.example:{port}/v1",
    "a name with a private address among public ones": "https://mixed.example/v1",
    "a name that does not resolve": "https://nowhere.example/v1",
    "plain http to a public name": "http://scripe.example/v1",
}


@pytest.fixture(autouse=True)
def names(fake_dns):
    fake_dns.answer("intranet.example", ["10.1.2.3"])
    fake_dns.answer("loopback.example", ["127.0.0.1"])
    fake_dns.answer("mixed.example", [PUBLIC, "192.168.1.10"])
    fake_dns.answer("nowhere.example")
    fake_dns.answer("scripe.example", [PUBLIC])
    return fake_dns


@pytest.fixture
def rule(settings):
    """The production default: local hosts are not allowed."""
    settings.SCRIPE_ALLOW_LOCAL_HOSTS = False


@pytest.fixture
def staff(team):
    """Ada: staff, admin of Acme only, not a superuser: the person the rule is about."""
    grant(team.admin, "view", "change", "add", "delete")
    return team.admin


@pytest.fixture
def scripe(team):
    connection = connection_for(team.workspace)
    connection.save()
    return connection


def change_url(team) -> str:
    return f"/admin/calendar_app/workspace/{team.workspace.pk}/change/"


def verify(client, team) -> str:
    """Presses Verify; the page it leads back to."""
    url = f"/admin/calendar_app/workspace/{team.workspace.pk}/verify-key/"
    return client.post(url, follow=True).content.decode().replace("&#x27;", "'")


def base_url_errors(response) -> list[str]:
    """The errors shown next to the Scripe connection's base URL field."""
    for inline in response.context["inline_admin_formsets"]:
        if inline.formset.prefix == "scripe":
            return list(inline.formset.forms[0].errors.get("base_url", []))
    raise AssertionError("no Scripe connection on the page")


def stored_at(scripe: ScripeConnection, url: str) -> None:
    """A connection saved with this base URL and a key for it, as before the rule."""
    scripe.base_url = url
    scripe.set_key(KEY)
    scripe.save()


# saving ------------------------------------------------------------------------------------------


# A name that does not resolve is said apart (test below).
REFUSED_ON_SAVE = {k: v for k, v in FORBIDDEN.items() if "nowhere" not in v}


@pytest.mark.parametrize("url", REFUSED_ON_SAVE.values(), ids=REFUSED_ON_SAVE.keys())
def test_the_admin_refuses_a_base_url_the_server_may_not_call_next_to_the_field(
    client, team, staff, scripe, rule, listener, connections, url
):
    url = url.format(port=listener.port)
    client.force_login(staff)
    response = client.post(change_url(team), change_form(team, scripe, key=KEY, base_url=url))
    assert response.status_code == 200  # the form again, not saved
    errors = base_url_errors(response)
    assert len(errors) == 1 and errors[0].startswith(REFUSED)
    assert "SCRIPE_ALLOW_LOCAL_HOSTS" in errors[0]
    stored = ScripeConnection.objects.get(pk=scripe.pk)
    assert stored.base_url == scripe.base_url and not stored.has_key
    assert connections.made == [] and listener.accepted == 0


def test_a_base_url_whose_name_does_not_resolve_is_said_so_next_to_the_field(
    client, team, staff, scripe, rule, connections
):
    client.force_login(staff)
    form = change_form(team, scripe, key=KEY, base_url="https://nowhere.example/v1")
    response = client.post(change_url(team), form)
    assert response.status_code == 200
    assert base_url_errors(response) == ["We could not find nowhere.example; check the address."]
    assert not ScripeConnection.objects.get(pk=scripe.pk).has_key
    assert connections.made == []


def test_the_rule_bites_without_the_setting_and_the_local_sandbox_works_with_it(
    client, team, staff, scripe, sandbox, settings
):
    client.force_login(staff)
    form = change_form(team, scripe, key=sandbox.key, base_url=sandbox.base_url)
    settings.SCRIPE_ALLOW_LOCAL_HOSTS = False
    response = client.post(change_url(team), form)
    assert response.status_code == 200
    assert base_url_errors(response)[0].startswith(REFUSED)
    assert not ScripeConnection.objects.get(pk=scripe.pk).has_key

    settings.SCRIPE_ALLOW_LOCAL_HOSTS = True  # development, `make run`
    assert client.post(change_url(team), form).status_code == 302
    assert "The key works: Scripe workspace Sandbox Workspace" in verify(client, team)
    assert sandbox.stats()["requests"]["GET /v1/workspaces/me"] == 1


def test_a_public_https_name_is_saved(client, team, staff, scripe, rule, connections):
    client.force_login(staff)
    form = change_form(team, scripe, key=KEY, base_url="https://scripe.example/v1")
    assert client.post(change_url(team), form).status_code == 302
    stored = ScripeConnection.objects.get(pk=scripe.pk)
    assert (stored.base_url, stored.has_key) == ("https://scripe.example/v1", True)
    assert connections.made == []  # saving looks the name up; it connects to nothing


# verifying and calling ---------------------------------------------------------------------------


@pytest.mark.parametrize("url", FORBIDDEN.values(), ids=FORBIDDEN.keys())
def test_verify_sends_nothing_to_a_stored_base_url_the_server_may_not_call(
    client, team, staff, scripe, rule, listener, connections, url
):
    stored_at(scripe, url.format(port=listener.port))
    client.force_login(staff)
    page = verify(client, team)
    assert connections.made == [] and listener.accepted == 0
    assert NOT_REACHED in page


def test_a_name_that_turns_private_after_it_was_saved_is_never_connected_to(
    client, team, staff, scripe, rule, listener, connections, fake_dns
):
    # DNS rebinding: the name answers a public address once, when it is checked, then this
    # machine, where the port counts connections.
    fake_dns.answer("rebind.example", [PUBLIC], ["127.0.0.1"])
    url = f"https://rebind.example:{listener.port}/v1"
    client.force_login(staff)
    form = change_form(team, scripe, key=KEY, base_url=url)
    assert client.post(change_url(team), form).status_code == 302
    assert ScripeConnection.objects.get(pk=scripe.pk).base_url == url
    pages = [verify(client, team) for _ in range(3)]
    assert listener.accepted == 0 and connections.to("127.0.0.1") == []
    assert all(NOT_REACHED in page for page in pages)
    assert fake_dns.asked["rebind.example"] == 4  # once when saved, once before each call


def test_one_sentence_for_every_address_where_scripe_is_not(
    team, scripe, settings, listen, connections
):
    settings.SCRIPE_READ_TIMEOUT = 0.5
    web = listen(HTTP + b"404 Not Found\r\nContent-Length: 9\r\n\r\nNot Found")
    ports = {
        "a closed port": closed_port(),
        "a web server's 404": web.port,
        "a web page": listen(HTTP + b"200 OK\r\nContent-Length: 6\r\n\r\n<html>").port,
        "an SSH server": listen(b"SSH-2.0-OpenSSH_9.6\r\n").port,
        "a port that hangs up": listen(b"").port,
        "a port that says nothing": listen(None).port,
    }
    places = {place: f"http://127.0.0.1:{port}/v1" for place, port in ports.items()}
    places["TLS to a plain HTTP port"] = f"https://127.0.0.1:{web.port}/v1"
    places["a name that does not resolve"] = "http://nowhere.example/v1"
    told = {}
    for place, url in places.items():
        stored_at(scripe, url)
        told[place] = key_verify(workspace=team.workspace)[1]
    settings.SCRIPE_ALLOW_LOCAL_HOSTS = False
    for place, url in {
        "refused by the rule": f"http://127.0.0.1:{web.port}/v1",
        "a public address that refuses": "https://scripe.example/v1",
    }.items():
        stored_at(scripe, url)
        told[place] = key_verify(workspace=team.workspace)[1]
    assert told == dict.fromkeys(told, NOT_REACHED)


# a connection stored before the rule ----------------------------------------------------------


@pytest.fixture
def stored_local(scripe, listener, rule):
    """Saved while local hosts were allowed (or before the rule); now they are not."""
    stored_at(scripe, f"http://127.0.0.1:{listener.port}/v1")
    return scripe


def test_the_pipeline_sends_nothing_to_a_stored_base_url_the_server_may_not_call(
    team, stored_local, listener, connections, monkeypatch
):
    with pytest.raises(ScripeError) as refused:
        projects_fetch(workspace=team.workspace)
    assert refused.value.code == "connection_error"
    monkeypatch.setattr(dispatch, "enqueue", lambda job_ids: None)
    slot = team.slot(timezone.now() + timedelta(days=3))
    job = generation.generation_request(slot=slot)
    generation.generation_advance(job.pk)
    job.refresh_from_db()
    assert not job.finished and job.retry_reason.startswith("Scripe could not be reached;")
    assert connections.made == [] and listener.accepted == 0
    stored_local.refresh_from_db()
    assert stored_local.unreachable_since is not None


def test_workspace_admins_are_told_why_nothing_is_sent(client, team, stored_local):
    banner = (
        f"<strong>Acme</strong>: Scripe's base URL {stored_local.base_url} is not an https "
        "address on the public internet, so nothing is sent to it until an admin changes it."
    )
    client.force_login(team.admin)
    assert banner in client.get("/").content.decode().replace("&#x27;", "'")
    client.force_login(team.editor)
    assert "is not an https address" not in client.get("/").content.decode()


def test_the_admin_page_says_nothing_is_sent_and_why(client, team, staff, stored_local):
    client.force_login(staff)
    page = client.get(change_url(team)).content.decode().replace("&#x27;", "'")
    assert f"Nothing is sent to {stored_local.base_url}. {REFUSED}" in page


def test_the_page_still_saves_other_changes_with_a_stored_base_url_it_refuses(
    client, team, staff, stored_local
):
    client.force_login(staff)
    form = change_form(team, stored_local)
    form["name"] = "Acme Inc"
    assert client.post(change_url(team), form).status_code == 302
    team.workspace.refresh_from_db()
    assert team.workspace.name == "Acme Inc"


def test_the_client_alone_refuses_local_addresses_unless_told(listener, connections):
    url = f"http://127.0.0.1:{listener.port}/v1"
    with pytest.raises(ScripeError) as refused:
        ScripeClient(url, KEY).workspace_me()
    assert refused.value.code == "connection_error"
    assert listener.accepted == 0
