"""Fixtures for the MCP server's tests: tokens for the team, a real `mcp` SDK client session
against the live server, and raw JSON-RPC through Django's test client."""

from __future__ import annotations

import concurrent.futures
import json
from contextlib import asynccontextmanager

import anyio
import httpx2
import pytest
from django.test import Client as DjangoClient
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from tests.calendar_app.api.conftest import make_token

MCP = "/mcp/"
# The last protocol version with the initialize handshake: the stateless transport answers a
# single tools/call with it, which is what the raw tests send.
HANDSHAKE_VERSION = "2025-11-25"


@pytest.fixture(autouse=True)
def _rate_cache(settings):
    # The per-token rate limit counts in a cache of its own: one per test, in memory, so the
    # counts (and their queries) stay out of the next test.
    settings.CACHES = {
        **settings.CACHES,
        "api": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "mcp"},
    }
    from django.core.cache import caches

    caches["api"].clear()


@pytest.fixture
def token_for(team):
    """A token's secret for a person of the team (default scopes: all their role allows)."""

    def make(user, scopes=None, workspace=None, name="Claude"):
        from calendar_app.accounts.tokens import scopes_allowed
        from calendar_app.models import Membership

        workspace = workspace or team.workspace
        role = Membership.objects.get(user=user, workspace=workspace).role
        return make_token(user, workspace, scopes=scopes or scopes_allowed(role), name=name).secret

    return make


@asynccontextmanager
async def assistant(live_server, secret: str, answers: list[int] | None = None):
    """A session of the `mcp` SDK's own client over streamable HTTP, with the token, as an
    assistant configured with the README's snippet opens it. `answers` collects the HTTP
    statuses it got."""
    headers = {"Authorization": f"Bearer {secret}"}

    async def note(response) -> None:
        if answers is not None:
            answers.append(response.status_code)

    async with (
        httpx2.AsyncClient(headers=headers, event_hooks={"response": [note]}) as http,
        Client(streamable_http_client(f"{live_server.url}{MCP}", http_client=http)) as client,
    ):
        yield client


def result_of(answer):
    """A tool's structured answer, or its error sentence (which fails the test)."""
    assert not answer.is_error, answer.content[0].text
    return answer.structured_content


def error_of(answer) -> str:
    assert answer.is_error, answer.structured_content
    return answer.content[0].text


def rpc(secret: str | None, method: str, params: dict | None = None, **headers):
    """One JSON-RPC request to /mcp/ through Django's test client (in this thread, so query
    counts and the test's transaction see it)."""
    sent = {
        "Accept": "application/json, text/event-stream",
        "MCP-Protocol-Version": HANDSHAKE_VERSION,
        **headers,
    }
    if secret:
        sent["Authorization"] = f"Bearer {secret}"
    body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params or {}}
    return DjangoClient().post(MCP, json.dumps(body), content_type="application/json", headers=sent)


def call(secret: str, tool: str, **arguments):
    response = rpc(secret, "tools/call", {"name": tool, "arguments": arguments})
    assert response.status_code == 200, response.content
    return response.json()["result"]


def run_session(session):
    """Runs an async client session to its end on a thread of its own: a worker that ran a
    browser test before keeps Playwright's event loop in its main thread, and anyio refuses
    to start a second loop there."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(anyio.run, session).result()
