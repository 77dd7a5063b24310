"""Outgoing webhook endpoints through the API: admin scope for reading and writing, the
secret in the answer that makes it only, the page's rules and another workspace's 404."""

from __future__ import annotations

import pytest

from calendar_app.models import WebhookEndpoint
from calendar_app.outbound import services
from scripe_integration import crypto

LIST = "/api/v1/webhooks/"
URL = "http://127.0.0.1:9/hooks"


@pytest.fixture(autouse=True)
def _local(settings):
    settings.OUTGOING_WEBHOOKS_ALLOW_LOCAL = True


@pytest.fixture
def admin_api(team, api_for):
    return api_for(team.admin)


def test_an_admin_makes_an_endpoint_and_reads_its_secret_once(admin_api):
    answer = admin_api.post(LIST, {"url": URL, "events": ["post.approved"], "description": "CRM"})
    assert answer.status_code == 201
    data = answer.json()["data"]
    endpoint = WebhookEndpoint.objects.get()
    assert data["secret"] == crypto.decrypt(endpoint.secret_encrypted)
    assert data["events"] == ["post.approved"] and data["active"] is True

    shown = admin_api.get(f"{LIST}{endpoint.public_id}/").json()["data"]
    assert "secret" not in shown
    assert [e["id"] for e in admin_api.get(LIST).json()["data"]] == [str(endpoint.public_id)]


def test_bad_input_answers_the_sentences_by_field(admin_api, settings):
    settings.OUTGOING_WEBHOOKS_ALLOW_LOCAL = False
    answer = admin_api.post(LIST, {"url": URL, "events": []})
    assert answer.status_code == 422
    fields = answer.json()["error"]["fields"]
    assert fields["url"] == "Use an https address on the public internet."
    assert "events" in fields
    assert not WebhookEndpoint.objects.exists()


def test_a_name_that_does_not_resolve_is_said_so(admin_api, settings, monkeypatch):
    import socket

    def nowhere(host, *args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    settings.OUTGOING_WEBHOOKS_ALLOW_LOCAL = False
    monkeypatch.setattr(socket, "getaddrinfo", nowhere)
    answer = admin_api.post(LIST, {"url": "https://example.com/hook", "events": ["post.planned"]})
    assert answer.status_code == 422
    assert answer.json()["error"]["fields"]["url"] == (
        "We could not find example.com; check the address."
    )
    assert not WebhookEndpoint.objects.exists()


def test_change_switch_rotate_and_delete(admin_api, team):
    endpoint, old = services.endpoint_create(
        workspace=team.workspace, user=team.admin, url=URL, events=["post.planned"]
    )
    path = f"{LIST}{endpoint.public_id}/"
    changed = admin_api.patch(path, {"events": ["post.published"], "active": False}).json()
    assert (changed["data"]["events"], changed["data"]["active"]) == (["post.published"], False)

    rotated = admin_api.post(f"{path}rotate/").json()["data"]
    assert rotated["secret"] != old and rotated["previousSecretUntil"]
    endpoint.refresh_from_db()
    assert services.signing_secrets(endpoint) == [rotated["secret"], old]

    assert admin_api.delete(path).status_code == 204
    assert not WebhookEndpoint.objects.exists()


def test_it_needs_the_admin_scope_even_to_read(team, api_for):
    services.endpoint_create(
        workspace=team.workspace, user=team.admin, url=URL, events=["post.planned"]
    )
    for api in (api_for(team.manager), api_for(team.admin, scopes=["read", "plan"])):
        answer = api.get(LIST)
        assert answer.status_code == 403
        assert answer.json()["error"]["code"] == "scope_missing"


def test_another_workspace_endpoint_is_404(team, api_for):
    endpoint, _ = services.endpoint_create(
        workspace=team.workspace, user=team.admin, url=URL, events=["post.planned"]
    )
    outsider = api_for(team.outsider, workspace=team.other_workspace)
    path = f"{LIST}{endpoint.public_id}/"
    assert outsider.get(path).status_code == 404
    assert outsider.patch(path, {"active": False}).status_code == 404
    assert outsider.post(f"{path}rotate/").status_code == 404
    assert outsider.delete(path).status_code == 404
    assert outsider.get(LIST).json()["data"] == []
    assert WebhookEndpoint.objects.get().is_active
