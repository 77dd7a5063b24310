"""Registering the workspace's webhook endpoint with Scripe, and rotating its secret, from the
admin: only with a public base URL, with the change permission, in the admin's own
workspaces; the secret stored encrypted and shown masked. Against the sandbox over HTTP."""

from __future__ import annotations

import time
from datetime import timedelta
from html import unescape

import pytest
from django.db import connection as db
from django.utils import timezone

from scripe_integration.models import ScripeConnection
from scripe_integration.sandbox import ALL_SCOPES, DEFAULT_TEST_KEY
from scripe_integration.services import (
    SUBSCRIBED_EVENTS,
    connection_for,
    webhook_register,
    webhooks_off_reason,
)
from scripe_integration.webhooks import SIGNATURE_HEADER, signature
from tests.calendar_app.test_admin import grant

BASE = "http://127.0.0.1:9"  # nothing listens there; what is registered is what is tested


@pytest.fixture
def public(settings):
    settings.PUBLIC_BASE_URL = BASE
    settings.SCRIPE_ALLOW_LOCAL_HOSTS = True


@pytest.fixture
def staff(team):
    """Ada: staff, admin of Acme, with every model permission, not a superuser."""
    grant(team.admin, "view", "change", "add", "delete")
    return team.admin


@pytest.fixture
def hooked(sandbox_factory):
    return sandbox_factory(webhook_retry_seconds=(), webhook_timeout=1.0)


def change_url(workspace) -> str:
    return f"/admin/calendar_app/workspace/{workspace.pk}/change/"


def register_url(workspace) -> str:
    return f"/admin/calendar_app/workspace/{workspace.pk}/webhook/register/"


def rotate_url(workspace) -> str:
    return f"/admin/calendar_app/workspace/{workspace.pk}/webhook/rotate/"


def stored(workspace) -> ScripeConnection:
    return ScripeConnection.objects.get(workspace=workspace)


def raw_secret_column(pk: int) -> str:
    with db.cursor() as cursor:
        cursor.execute(
            "SELECT encrypted_webhook_secret FROM scripe_integration_scripeconnection "
            "WHERE id = %s",
            [pk],
        )
        return cursor.fetchone()[0]


# registering ------------------------------------------------------------------------------------


def test_an_admin_registers_the_endpoint_and_the_secret_is_stored_encrypted_and_masked(
    client, team, staff, hooked, public
):
    hooked.wire(team.workspace)
    client.force_login(staff)
    page = client.post(register_url(team.workspace), follow=True).content.decode()
    conn = stored(team.workspace)
    assert "Acme: Webhooks registered" in page
    assert conn.webhook_endpoint_id.startswith("whe_")
    url = f"{BASE}/hooks/scripe/{conn.public_id}/"
    assert conn.webhook_url == url
    # Scripe has it, for the five events, at the receiver's address.
    with hooked.client() as scripe:
        endpoint = scripe.get_webhook_endpoint(conn.webhook_endpoint_id)
    assert (endpoint.url, set(endpoint.events)) == (url, set(SUBSCRIBED_EVENTS))
    assert endpoint.is_active
    # Ciphertext at rest, masked on the page, never whole.
    [plain] = conn.webhook_secrets()
    assert plain.startswith("whsec_") and plain.endswith(endpoint.secret_last4)
    assert plain not in raw_secret_column(conn.pk)
    assert conn.webhook_secret_hint == f"{plain[:6]}…{plain[-4:]}"
    page = client.get(change_url(team.workspace)).content.decode()
    assert conn.webhook_secret_hint in page and plain not in page
    assert "Rotate webhook secret" in page


def test_registering_again_points_the_same_endpoint_and_keeps_its_secret(
    client, team, staff, hooked, public, settings
):
    hooked.wire(team.workspace)
    client.force_login(staff)
    client.post(register_url(team.workspace))
    first = stored(team.workspace)
    settings.PUBLIC_BASE_URL = "http://localhost:9"
    client.post(register_url(team.workspace))
    again = stored(team.workspace)
    assert again.webhook_endpoint_id == first.webhook_endpoint_id
    assert again.webhook_secrets() == first.webhook_secrets()
    assert again.webhook_url.startswith("http://localhost:9/hooks/scripe/")
    assert hooked.stats()["webhookEndpoints"] == 1


def test_without_a_public_url_the_admin_says_webhooks_are_off_and_registers_nothing(
    client, team, staff, hooked, settings
):
    settings.PUBLIC_BASE_URL = ""
    hooked.wire(team.workspace)
    client.force_login(staff)
    page = client.get(change_url(team.workspace)).content.decode()
    assert "Webhooks are off: PUBLIC_BASE_URL is not set" in page
    assert "Polling alone shows changes made in Scripe within 2 minutes." in page
    assert "Register webhooks with Scripe" not in page
    page = client.post(register_url(team.workspace), follow=True).content.decode()
    assert "Acme: Webhooks are off" in page
    assert hooked.stats()["requestsTotal"] == 0
    assert not stored(team.workspace).has_webhook


@pytest.mark.parametrize(
    "base, allow_local, off",
    [
        ("", True, True),
        ("https://cal.example.com", False, False),
        ("http://cal.example.com", False, True),  # https on the public internet
        ("http://127.0.0.1:8000", False, True),
        ("https://127.0.0.1:8000", False, True),
        ("https://10.0.0.5", False, True),
        ("https://localhost:8000", False, True),
        ("http://127.0.0.1:8000", True, False),  # unless local hosts are allowed
        ("http://localhost:8000", True, False),
    ],
)
def test_webhooks_need_a_public_https_address_or_local_hosts_allowed(
    settings, base, allow_local, off
):
    settings.PUBLIC_BASE_URL = base
    settings.SCRIPE_ALLOW_LOCAL_HOSTS = allow_local
    assert bool(webhooks_off_reason()) is off


def test_registering_refuses_a_public_base_url_that_resolves_to_a_private_address(
    team, hooked, settings, fake_dns
):
    fake_dns.answer("cal.example", ["10.0.0.7"])
    settings.PUBLIC_BASE_URL = "https://cal.example"
    hooked.wire(team.workspace)
    settings.SCRIPE_ALLOW_LOCAL_HOSTS = False
    registered, message = webhook_register(workspace=team.workspace)
    assert not registered
    assert message.startswith(
        "Webhooks are off: PUBLIC_BASE_URL (https://cal.example) is not an https address on "
        "the public internet"
    )
    assert hooked.stats()["requestsTotal"] == 0


def test_a_key_without_the_webhooks_scope_is_told_so_and_stays_valid(
    client, team, staff, sandbox_factory, public
):
    scopes = tuple(s for s in ALL_SCOPES if s != "webhooks:manage")
    sandbox = sandbox_factory(keys={DEFAULT_TEST_KEY: scopes})
    sandbox.wire(team.workspace)
    conn = stored(team.workspace)
    conn.key_state = ScripeConnection.KeyState.VALID
    conn.save()
    client.force_login(staff)
    page = client.post(register_url(team.workspace), follow=True).content.decode()
    assert "lacks the webhooks:manage permission" in page
    # Generations still work: the key is not marked invalid for a scope it can do without.
    assert stored(team.workspace).key_state == "valid"


def test_the_inline_says_how_to_turn_them_on_when_not_registered(
    client, team, staff, hooked, public
):
    hooked.wire(team.workspace)
    client.force_login(staff)
    page = client.get(change_url(team.workspace)).content.decode()
    assert "Not registered: polling keeps the calendar current." in page
    assert "Register webhooks with Scripe" in page
    assert "Rotate webhook secret" not in page


def test_the_panel_says_when_the_last_delivery_arrived_and_what_was_refused_and_why(
    client, team, staff, hooked, public
):
    hooked.wire(team.workspace)
    client.force_login(staff)
    client.post(register_url(team.workspace))
    page = unescape(client.get(change_url(team.workspace)).content.decode())
    assert "No delivery has arrived yet. None was refused in the last day." in page
    assert "Until one arrives the calendar does not count on them." in page

    event = b'{"id": "evt_1", "type": "post.updated", "data": {"id": "post_1"}}'
    assert deliver(client, team, event, secret="whsec_" + "0" * 64).status_code == 401
    assert deliver(client, team, event, secret="whsec_" + "0" * 64).status_code == 401
    assert deliver(client, team, b'{"data": "not an event"}').status_code == 400
    page = unescape(client.get(change_url(team.workspace)).content.decode())
    # Registered, and every delivery refused: the panel says so, and why.
    last = stored(team.workspace).webhook_refusals.latest("last_at").last_at
    assert (
        "No delivery has arrived yet. 3 deliveries were refused in the last day (bad "
        f"signature: 2, unreadable body: 1), the last at {last:%Y-%m-%d %H:%M} UTC. Bad "
        "signatures: if they are Scripe's, the secret stored here is not the endpoint's; "
        "rotate the secret. Unreadable body: " in page
    )
    assert "Deliveries are being refused, so the calendar does not count on them." in page

    assert deliver(client, team, event).status_code == 200
    page = unescape(client.get(change_url(team.workspace)).content.decode())
    arrived = stored(team.workspace).webhook_received_at
    assert f"The last delivery arrived {arrived:%Y-%m-%d %H:%M} UTC. 3 deliveries" in page
    assert "Webhooks are being heard." in page


def test_the_panel_of_an_unregistered_workspace_counts_what_was_sent_to_it(
    client, team, staff, hooked, public
):
    hooked.wire(team.workspace)
    conn = stored(team.workspace)
    event = b'{"id": "evt_1", "type": "post.updated", "data": {"id": "post_1"}}'
    url = f"/hooks/scripe/{conn.public_id}/"
    assert client.post(url, data=event, content_type="application/json").status_code == 404
    client.force_login(staff)
    page = unescape(client.get(change_url(team.workspace)).content.decode())
    assert "Not registered: polling keeps the calendar current." in page
    assert "1 delivery was refused in the last day (unknown endpoint: 1)" in page
    assert "register webhooks again" in page


def deliver(client, team, body: bytes, *, secret: str | None = None):
    conn = stored(team.workspace)
    key = secret or conn.webhook_secrets()[0]
    return client.post(
        f"/hooks/scripe/{conn.public_id}/",
        data=body,
        content_type="application/json",
        headers={SIGNATURE_HEADER: signature(key, body, int(time.time()))},
    )


# rotating ---------------------------------------------------------------------------------------


def test_rotating_stores_the_new_secret_and_keeps_the_old_one_for_the_overlap(
    client, team, staff, hooked, public, settings
):
    settings.SCRIPE_WEBHOOK_SECRET_OVERLAP_SECONDS = 600
    hooked.wire(team.workspace)
    client.force_login(staff)
    client.post(register_url(team.workspace))
    [old] = stored(team.workspace).webhook_secrets()
    page = client.post(rotate_url(team.workspace), follow=True).content.decode()
    assert "Acme: Webhook secret rotated" in page
    conn = stored(team.workspace)
    new, previous = conn.webhook_secrets()
    assert (previous, new != old) == (old, True)
    with hooked.client() as scripe:
        assert scripe.get_webhook_endpoint(conn.webhook_endpoint_id).secret_last4 == new[-4:]
    overlap = conn.previous_webhook_secret_until - timezone.now()
    assert timedelta(seconds=590) < overlap <= timedelta(seconds=600)
    assert conn.webhook_secrets(now=timezone.now() + timedelta(seconds=601)) == [new]
    page = client.get(change_url(team.workspace)).content.decode()
    assert "The previous secret verifies until" in page and old not in page


def test_rotating_before_registering_says_to_register_first(client, team, staff, hooked, public):
    hooked.wire(team.workspace)
    client.force_login(staff)
    page = client.post(rotate_url(team.workspace), follow=True).content.decode()
    assert "register it first" in page
    assert hooked.stats()["requestsTotal"] == 0


# who may ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", [register_url, rotate_url])
def test_view_only_staff_get_403(client, team, hooked, public, url):
    hooked.wire(team.workspace)
    webhook_register(workspace=team.workspace)
    before = hooked.stats()["requestsTotal"]
    grant(team.admin, "view")
    client.force_login(team.admin)
    assert client.post(url(team.workspace)).status_code == 403
    assert hooked.stats()["requestsTotal"] == before


def test_view_only_staff_are_not_shown_the_buttons(client, team, hooked, public):
    hooked.wire(team.workspace)
    webhook_register(workspace=team.workspace)
    grant(team.admin, "view")
    client.force_login(team.admin)
    page = client.get(change_url(team.workspace)).content.decode()
    assert "Register webhooks with Scripe" not in page and "Rotate webhook secret" not in page


@pytest.mark.parametrize("url", [register_url, rotate_url])
def test_staff_of_acme_cannot_touch_globex(client, team, staff, hooked, public, url):
    hooked.wire(team.other_workspace)
    client.force_login(staff)
    assert client.post(url(team.other_workspace)).status_code == 404
    assert hooked.stats()["requestsTotal"] == 0
    assert not connection_for(team.other_workspace).has_webhook


@pytest.mark.parametrize("url", [register_url, rotate_url])
def test_the_buttons_need_post(client, team, staff, url):
    client.force_login(staff)
    assert client.get(url(team.workspace)).status_code == 405


def test_anonymous_visitors_are_sent_to_the_admin_log_in(client, team, hooked, public):
    response = client.post(register_url(team.workspace))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    assert hooked.stats()["requestsTotal"] == 0
