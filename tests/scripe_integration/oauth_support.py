"""Consenting on the sandbox's OAuth page without a browser, and connecting a workspace by
OAuth through the services, for the OAuth tests."""

from __future__ import annotations

import base64
import hashlib
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx

from scripe_integration.contract import OAUTH_SCOPES

CALLBACK = "http://testserver/scripe/oauth/callback/"


def challenge(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode()[:-1]


def authorize(server, client_id: str, verifier: str, **overrides) -> str:
    query = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": CALLBACK,
        "scope": " ".join(OAUTH_SCOPES),
        "state": "s1",
        "code_challenge": challenge(verifier),
        "code_challenge_method": "S256",
        **overrides,
    }
    return f"{server.authorization_endpoint}?{urlencode({k: v for k, v in query.items() if v})}"


def consent(authorize_url: str, *, decision: str = "approve", workspace_id: str = "") -> dict:
    """Opens the consent page, presses Approve (or Deny), and returns the query Scripe sends
    the browser back with (`code` and `state`, or `error`)."""
    page = httpx.get(authorize_url)
    assert page.status_code == 200, page.text
    assert "Approve" in page.text
    parts = urlsplit(authorize_url)
    form = {**dict(parse_qsl(parts.query)), "decision": decision}
    if workspace_id:
        form["workspace_id"] = workspace_id
    answer = httpx.post(f"{parts.scheme}://{parts.netloc}{parts.path}", data=form)
    assert answer.status_code == 302, answer.text
    return dict(parse_qsl(urlsplit(answer.headers["location"]).query))


def connect(sandbox, workspace, *, workspace_id: str = "") -> str:
    """Points the workspace at the sandbox and connects it by OAuth; returns the message."""
    from scripe_integration.services import connection_for, oauth_complete, oauth_start

    connection = connection_for(workspace)
    connection.base_url = sandbox.base_url
    connection.save()
    started = oauth_start(workspace=workspace, redirect_uri=CALLBACK)
    answer = consent(started.authorize_url, workspace_id=workspace_id)
    assert answer["state"] == started.state
    done, message = oauth_complete(
        workspace=workspace,
        base_url=sandbox.base_url,
        code=answer["code"],
        code_verifier=started.code_verifier,
        redirect_uri=CALLBACK,
    )
    assert done, message
    return message


def oauth_stats(sandbox) -> dict:
    return httpx.get(f"{sandbox.root_url}/_sandbox/oauth").json()["data"]


def revoke_in_scripe(sandbox) -> None:
    """The user removes the app under Scripe's settings."""
    httpx.post(f"{sandbox.root_url}/_sandbox/oauth/revoke", json={}).raise_for_status()
