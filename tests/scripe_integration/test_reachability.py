"""A workspace whose Scripe does not answer is visible: scripe_session records the first call
that could not reach Scripe (timeout, refused connection) on the connection and clears it on
the next answer; the admin page and a banner for the workspace's admins show it."""

from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.utils import timezone

from scripe_integration.contract import ScripeError
from scripe_integration.services import connection_for, key_verify, projects_fetch

KEY = "scripe_sk_test_sandbox0000000000000000000000"


def closed_port() -> int:
    """A port on which nothing listens: connecting to it is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def nowhere(team):
    """Acme's connection, pointed at a closed port."""
    connection = connection_for(team.workspace)
    connection.base_url = f"http://127.0.0.1:{closed_port()}/v1"
    connection.set_key(KEY)
    connection.save()
    return connection


def wired(team, sandbox):
    """Acme's connection, pointed at the sandbox."""
    sandbox.wire(team.workspace)
    return connection_for(team.workspace)


def down_since(connection, when: datetime) -> None:
    type(connection).objects.filter(pk=connection.pk).update(unreachable_since=when)
    connection.refresh_from_db()


# recording -------------------------------------------------------------------------------------


def test_a_refused_connection_is_recorded(team, nowhere):
    with pytest.raises(ScripeError, match="connection_error"):
        projects_fetch(workspace=team.workspace)
    nowhere.refresh_from_db()
    assert nowhere.unreachable_since is not None
    assert timezone.now() - nowhere.unreachable_since < timedelta(seconds=30)


def test_a_timeout_is_recorded(team, sandbox, settings):
    sandbox.wire(team.workspace)
    settings.SCRIPE_READ_TIMEOUT = 0.3
    sandbox.fault("GET /v1/workspaces/me", hangSeconds=1.5)
    works, message = key_verify(workspace=team.workspace)
    assert not works and "could not be reached" in message
    assert connection_for(team.workspace).unreachable_since is not None


def test_a_later_failure_keeps_the_time_of_the_first(team, nowhere):
    first = timezone.now() - timedelta(hours=2)
    down_since(nowhere, first)
    key_verify(workspace=team.workspace)
    nowhere.refresh_from_db()
    assert nowhere.unreachable_since == first


def test_an_answer_clears_it(team, sandbox):
    connection = wired(team, sandbox)
    down_since(connection, timezone.now() - timedelta(minutes=5))
    assert key_verify(workspace=team.workspace)[0]
    connection.refresh_from_db()
    assert connection.unreachable_since is None


def test_a_refusal_from_scripe_is_an_answer_too(team, sandbox):
    connection = wired(team, sandbox)
    down_since(connection, timezone.now() - timedelta(minutes=5))
    sandbox.revoke(sandbox.key)
    assert not key_verify(workspace=team.workspace)[0]
    connection.refresh_from_db()
    assert connection.unreachable_since is None


def test_a_503_does_not_end_an_outage(team, sandbox):
    # A gateway in front of an unreachable Scripe answers 503 on its behalf.
    connection = wired(team, sandbox)
    since = timezone.now() - timedelta(minutes=5)
    down_since(connection, since)
    sandbox.fault("GET /v1/workspaces/me", status=503)
    assert not key_verify(workspace=team.workspace)[0]
    connection.refresh_from_db()
    assert connection.unreachable_since == since


def test_a_new_key_for_a_new_address_forgets_the_old_addresss_outage(team, nowhere, sandbox):
    down_since(nowhere, timezone.now() - timedelta(minutes=5))
    nowhere.base_url = sandbox.base_url
    nowhere.set_key(sandbox.key)
    nowhere.save()
    nowhere.refresh_from_db()
    assert nowhere.unreachable_since is None


# showing ---------------------------------------------------------------------------------------

# 13:02 UTC is 14:02 in Berlin, Acme's time zone, in March.
OUTAGE = datetime(2026, 3, 10, 13, 2, tzinfo=UTC)
BANNER = "<strong>Acme</strong>: Scripe at {url} has not answered since 14:02; generations wait"


@pytest.fixture
def outage(team, nowhere):
    down_since(nowhere, OUTAGE)
    with time_machine.travel(OUTAGE + timedelta(minutes=20), tick=False):
        yield nowhere


def test_workspace_admins_see_a_banner_while_scripe_does_not_answer(client, team, outage):
    client.force_login(team.admin)
    html = client.get("/").content.decode()
    assert BANNER.format(url=outage.base_url) in html


@pytest.mark.parametrize("role", ["editor", "manager", "outsider"])
def test_nobody_else_sees_the_outage_banner(client, team, outage, role):
    client.force_login(getattr(team, role))
    assert "has not answered since" not in client.get("/").content.decode()


def test_the_banner_names_the_day_of_an_outage_that_began_before_today(client, team, nowhere):
    down_since(nowhere, OUTAGE)
    client.force_login(team.admin)
    with time_machine.travel(OUTAGE + timedelta(days=1), tick=False):
        html = client.get("/").content.decode()
    assert "has not answered since 14:02 on 10 Mar;" in html


def test_the_banner_goes_once_scripe_answers(client, team, sandbox):
    connection = wired(team, sandbox)
    down_since(connection, timezone.now() - timedelta(minutes=5))
    key_verify(workspace=team.workspace)
    client.force_login(team.admin)
    assert "has not answered since" not in client.get("/").content.decode()


def test_the_admin_page_shows_since_when_scripe_has_not_answered(client, team, outage):
    team.admin.is_superuser = True
    team.admin.save()
    client.force_login(team.admin)
    html = client.get(f"/admin/calendar_app/workspace/{team.workspace.pk}/change/").content
    expected = f"Scripe at {outage.base_url} has not answered since 2026-03-10 13:02 UTC"
    assert expected in html.decode()
