"""Connecting with Scripe by OAuth 2.1 (contract §2.4), against the sandbox over real HTTP:
PKCE with S256 only, refresh tokens that rotate (and a reused one revoking the grant), two
workers refreshing at once without losing the grant, a revoked grant told to admins, and the
`Scripe-Workspace-Id` header."""

from __future__ import annotations

import secrets
import threading
from datetime import timedelta
from html import unescape
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from django.db import connection as db
from django.utils import timezone

from calendar_app.access import viewer_of
from calendar_app.models import Notification
from scripe_integration import crypto, services
from scripe_integration.client import ScripeClient, ScripeOAuthClient
from scripe_integration.contract import OAUTH_SCOPES, ScripeError
from scripe_integration.models import ScripeConnection
from scripe_integration.services import (
    connection_for,
    key_verify,
    oauth_disconnect,
    scripe_session,
)
from tests.scripe_integration.oauth_support import (
    CALLBACK,
    authorize,
    connect,
    consent,
    oauth_stats,
    revoke_in_scripe,
)

SECOND = "org_2sandboxSecondWorkspace02"
OPAQUE_TOKEN = "eyJhbGciOi.opaque-token_from-Scripe"  # a real one has no prefix to look for


@pytest.fixture
def oauth(sandbox):
    with ScripeOAuthClient(sandbox.base_url, allow_local_hosts=True) as client:
        yield client


def registered(oauth):
    server = oauth.discover()
    app = oauth.register(server, client_name="Test", redirect_uri=CALLBACK, scopes=OAUTH_SCOPES)
    return server, app


def stored(workspace) -> ScripeConnection:
    return ScripeConnection.objects.get(workspace=workspace)


def expire_access_token(workspace) -> None:
    past = timezone.now() - timedelta(seconds=1)
    ScripeConnection.objects.filter(workspace=workspace).update(access_token_expires_at=past)


# PKCE -------------------------------------------------------------------------------------------


def test_the_code_is_exchanged_with_the_s256_verifier_and_only_with_it(sandbox, oauth):
    server, app = registered(oauth)
    verifier = secrets.token_urlsafe(48)
    code = consent(authorize(server, app.client_id, verifier))["code"]

    with pytest.raises(ScripeError) as refused:
        oauth.exchange_code(
            server,
            client_id=app.client_id,
            code=code,
            code_verifier=secrets.token_urlsafe(48),
            redirect_uri=CALLBACK,
        )
    assert refused.value.code == "invalid_grant"

    code = consent(authorize(server, app.client_id, verifier))["code"]
    tokens = oauth.exchange_code(
        server, client_id=app.client_id, code=code, code_verifier=verifier, redirect_uri=CALLBACK
    )
    assert "posts:write" in tokens.scopes
    assert tokens.access_token not in repr(tokens) and tokens.refresh_token not in repr(tokens)
    with ScripeClient(sandbox.base_url, tokens.access_token, allow_local_hosts=True) as scripe:
        assert scripe.workspace_me().id == "org_2sandboxWorkspace00000001"


@pytest.mark.parametrize(
    "overrides",
    [{"code_challenge_method": "plain"}, {"code_challenge": "", "code_challenge_method": ""}],
)
def test_plain_or_missing_pkce_is_refused(sandbox, oauth, overrides):
    server, app = registered(oauth)
    url = authorize(server, app.client_id, secrets.token_urlsafe(48), **overrides)

    answer = httpx.get(url)

    assert answer.status_code == 302
    assert "error=invalid_request" in answer.headers["location"]
    assert "code=" not in answer.headers["location"]


def test_discovery_naming_another_host_is_refused():
    def metadata(request: httpx.Request) -> httpx.Response:
        evil = "https://collector.example"
        return httpx.Response(
            200,
            json={
                "issuer": "https://api.scripe.io",
                "authorization_endpoint": "https://api.scripe.io/oauth/authorize",
                "token_endpoint": f"{evil}/oauth/token",
                "registration_endpoint": "https://api.scripe.io/oauth/register",
                "code_challenge_methods_supported": ["S256"],
            },
        )

    client = ScripeOAuthClient("https://api.scripe.io/v1", transport=httpx.MockTransport(metadata))
    with pytest.raises(ScripeError) as refused:
        client.discover()
    assert refused.value.code == "invalid_response"


def tokens_for(sandbox, oauth, scopes=OAUTH_SCOPES):
    server = oauth.discover()
    app = oauth.register(server, client_name="Test", redirect_uri=CALLBACK, scopes=scopes)
    verifier = secrets.token_urlsafe(48)
    code = consent(authorize(server, app.client_id, verifier, scope=" ".join(scopes)))["code"]
    return oauth.exchange_code(
        server, client_id=app.client_id, code=code, code_verifier=verifier, redirect_uri=CALLBACK
    )


def test_a_token_does_what_its_scopes_allow_and_no_more(sandbox, oauth):
    tokens = tokens_for(sandbox, oauth, scopes=("posts:read", "offline_access"))

    with ScripeClient(sandbox.base_url, tokens.access_token, allow_local_hosts=True) as scripe:
        assert scripe.list_posts_page("proj_01JSANDBOXPROJ000000000001").posts == ()
        with pytest.raises(ScripeError) as refused:
            scripe.generate_post("proj_01JSANDBOXPROJ000000000001", "An idea", idempotency_key="k1")
    assert refused.value.code == "scope_missing"


def test_an_access_token_stops_working_when_it_expires(sandbox_factory, time_machine):
    sandbox = sandbox_factory(oauth_access_seconds=60)
    with ScripeOAuthClient(sandbox.base_url, allow_local_hosts=True) as oauth:
        tokens = tokens_for(sandbox, oauth)
    assert tokens.expires_at - timezone.now() <= timedelta(seconds=60)

    time_machine.move_to(timezone.now() + timedelta(seconds=61))

    scripe = ScripeClient(sandbox.base_url, tokens.access_token, allow_local_hosts=True)
    with scripe, pytest.raises(ScripeError) as refused:
        scripe.workspace_me()
    assert (refused.value.code, refused.value.http_status) == ("invalid_token", 401)


# refresh rotation ------------------------------------------------------------------------------


def test_a_refresh_rotates_the_refresh_token_the_old_one_is_refused(sandbox, oauth):
    server, app = registered(oauth)
    verifier = secrets.token_urlsafe(48)
    code = consent(authorize(server, app.client_id, verifier))["code"]
    first = oauth.exchange_code(
        server, client_id=app.client_id, code=code, code_verifier=verifier, redirect_uri=CALLBACK
    )

    second = oauth.refresh(server, client_id=app.client_id, refresh_token=first.refresh_token)
    third = oauth.refresh(server, client_id=app.client_id, refresh_token=second.refresh_token)

    assert len({first.refresh_token, second.refresh_token, third.refresh_token}) == 3
    with pytest.raises(ScripeError) as reused:
        oauth.refresh(server, client_id=app.client_id, refresh_token=first.refresh_token)
    assert reused.value.code == "invalid_grant"
    # A reused refresh token is taken as theft: the whole grant is gone, the newest too.
    with pytest.raises(ScripeError):
        oauth.refresh(server, client_id=app.client_id, refresh_token=third.refresh_token)


def test_an_expired_access_token_is_refreshed_and_the_new_pair_stored_encrypted(team, sandbox):
    connect(sandbox, team.workspace)
    before = crypto.decrypt(stored(team.workspace).encrypted_refresh_token)
    expire_access_token(team.workspace)

    works, message = key_verify(workspace=team.workspace)

    assert works, message
    assert message.startswith("The connection with Scripe works")
    assert oauth_stats(sandbox)["refreshes"] == 1
    connection = stored(team.workspace)
    after = crypto.decrypt(connection.encrypted_refresh_token)
    assert after != before and after.startswith("scripe_ort_")
    with db.cursor() as cursor:
        cursor.execute(
            "SELECT encrypted_refresh_token, encrypted_access_token FROM "
            "scripe_integration_scripeconnection WHERE id = %s",
            [connection.pk],
        )
        raw = " ".join(cursor.fetchone())
    assert "scripe_ort_" not in raw and "scripe_oat_" not in raw
    # The stored token is the live one: the next refresh works too.
    expire_access_token(team.workspace)
    assert key_verify(workspace=team.workspace)[0]
    assert oauth_stats(sandbox)["refreshes"] == 2


def test_an_access_token_scripe_stops_taking_is_renewed_once_and_the_call_goes_through(
    team, sandbox
):
    connect(sandbox, team.workspace, workspace_id="")
    sandbox.sandbox.state.oauth.access_tokens.clear()  # Scripe forgot it (expired early)

    assert key_verify(workspace=team.workspace)[0]
    assert oauth_stats(sandbox)["refreshes"] == 1


def test_a_full_save_of_a_stale_row_never_writes_back_an_old_refresh_token(team, sandbox):
    connect(sandbox, team.workspace)
    stale = stored(team.workspace)
    expire_access_token(team.workspace)
    assert key_verify(workspace=team.workspace)[0]  # rotates the refresh token

    stale.plan = "BUSINESS"
    stale.save()

    expire_access_token(team.workspace)
    assert key_verify(workspace=team.workspace)[0]
    assert not any(g["revoked"] for g in oauth_stats(sandbox)["grants"])


@pytest.mark.django_db(transaction=True)
def test_two_workers_refreshing_at_once_do_not_lose_the_grant(team, sandbox, monkeypatch):
    connect(sandbox, team.workspace)
    expire_access_token(team.workspace)
    real_refresh = ScripeOAuthClient.refresh
    real_wait = services._wait_for_refresh
    start = threading.Barrier(2, timeout=10)
    other_waits = threading.Event()

    def refresh_once_the_other_waits(self, *args, **kwargs):
        # The refresh is held open until the other worker has found the token expired and
        # the refresh taken, so the two really overlap.
        assert other_waits.wait(timeout=10)
        return real_refresh(self, *args, **kwargs)

    def waiting():
        other_waits.set()
        real_wait()

    monkeypatch.setattr(ScripeOAuthClient, "refresh", refresh_once_the_other_waits)
    monkeypatch.setattr(services, "_wait_for_refresh", waiting)
    results: list[object] = []

    def worker():
        try:
            start.wait()
            with scripe_session(connection_for(team.workspace)) as scripe:
                results.append(scripe.workspace_me().id)
        except Exception as error:
            results.append(error)
        finally:
            db.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert results == ["org_2sandboxWorkspace00000001"] * 2
    stats = oauth_stats(sandbox)
    assert stats["refreshes"] == 1
    assert not any(grant["revoked"] for grant in stats["grants"])
    expire_access_token(team.workspace)
    assert key_verify(workspace=team.workspace)[0]


# a revoked grant ---------------------------------------------------------------------------------


def test_a_grant_revoked_in_scripe_is_shown_to_admins_with_what_to_do(team, sandbox):
    connect(sandbox, team.workspace)
    revoke_in_scripe(sandbox)

    works, message = key_verify(workspace=team.workspace)

    assert not works
    assert "Connect with Scripe" in message
    connection = stored(team.workspace)
    assert connection.key_state == ScripeConnection.KeyState.INVALID
    assert connection.blocks_generation
    assert connection.encrypted_refresh_token == ""  # no dead secret kept
    [problem] = viewer_of(team.admin).broken_keys
    assert problem.blocking
    assert problem.problem.startswith("has lost its connection with Scripe")
    assert "Connect with Scripe" in problem.problem
    [notice] = Notification.objects.filter(user=team.admin)
    assert "no longer accepts the connection of Acme" in notice.text
    assert "Connect with Scripe" in notice.detail
    assert not Notification.objects.filter(user=team.editor).exists()


# workspaces -------------------------------------------------------------------------------------


def test_calls_name_the_connected_scripe_workspace_and_a_foreign_one_is_a_mismatch(team, sandbox):
    message = connect(sandbox, team.workspace, workspace_id=SECOND)

    assert "Second Sandbox Workspace" in message
    assert stored(team.workspace).scripe_workspace_id == SECOND
    assert key_verify(workspace=team.workspace)[0]

    ScripeConnection.objects.filter(workspace=team.workspace).update(
        scripe_workspace_id="org_notTheUsersWorkspace0001"
    )
    works, message = key_verify(workspace=team.workspace)

    assert not works
    assert "no longer belongs" in message
    assert stored(team.workspace).key_error_code == "workspace_mismatch"


def test_an_api_key_never_gets_a_workspace_mismatch(sandbox):
    with sandbox.client(workspace_id="org_notTheUsersWorkspace0001") as scripe:
        assert scripe.workspace_me().id == "org_2sandboxWorkspace00000001"


# one or the other ------------------------------------------------------------------------------


def test_connecting_replaces_the_key_and_disconnecting_falls_back_to_needing_one(team, sandbox):
    sandbox.wire(team.workspace)
    assert stored(team.workspace).has_key

    connect(sandbox, team.workspace)

    connection = stored(team.workspace)
    assert connection.uses_oauth and not connection.has_key
    assert connection.key_state == ScripeConnection.KeyState.VALID
    assert connection.oauth_app.client_id.startswith("cli_")

    done, message = oauth_disconnect(workspace=team.workspace)

    assert done, message
    connection = stored(team.workspace)
    assert not connection.uses_oauth and connection.encrypted_refresh_token == ""
    assert connection.key_state == ScripeConnection.KeyState.MISSING
    assert all(grant["revoked"] for grant in oauth_stats(sandbox)["grants"])
    sandbox.wire(team.workspace)
    assert key_verify(workspace=team.workspace)[0]


def test_the_app_registers_once_per_scripe(team, sandbox):
    connect(sandbox, team.workspace)
    connect(sandbox, team.other_workspace)

    assert len(sandbox.sandbox.state.oauth.clients) == 1


def test_rotating_the_encryption_key_rewrites_the_tokens_and_they_still_work(
    team, sandbox, settings
):
    from io import StringIO

    from cryptography.fernet import Fernet
    from django.core.management import call_command

    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.SCRIPE_KEY_ENCRYPTION_KEYS = [old]
    connect(sandbox, team.workspace)
    settings.SCRIPE_KEY_ENCRYPTION_KEYS = [new, old]

    call_command("rotate_scripe_keys", stdout=StringIO())

    settings.SCRIPE_KEY_ENCRYPTION_KEYS = [new]  # the old key is gone
    assert key_verify(workspace=team.workspace)[0]
    expire_access_token(team.workspace)
    assert key_verify(workspace=team.workspace)[0]  # the refresh token decrypts too


def test_an_error_report_from_inside_the_client_hides_the_oauth_token(monkeypatch):
    import sys

    from django.views.debug import ExceptionReporter

    def boom(*args, **kwargs):
        raise RuntimeError("no connection today")

    monkeypatch.setattr("scripe_integration.client.httpx.Client.request", boom)
    scripe = ScripeClient("https://api.scripe.io/v1", "", access_token=lambda: OPAQUE_TOKEN)
    try:
        scripe.workspace_me()
    except RuntimeError:
        html = ExceptionReporter(None, *sys.exc_info()).get_traceback_html()
    assert "no connection today" in html
    assert OPAQUE_TOKEN not in html
    assert "Bearer scripe_sk_…(hidden)" in unescape(html)


# what the grant allows ---------------------------------------------------------------------------


def test_a_workspace_connected_by_oauth_ingests_sources_and_knowledge(
    team, sandbox_factory, monkeypatch, settings, tmp_path
):
    """The grant covers every call the calendar makes, not just posts (QA: a knowledge ingest
    and a source got 403 scope_missing after connecting)."""
    from calendar_app.knowledge.services import knowledge_add
    from calendar_app.models import Role
    from calendar_app.pipeline import dispatch
    from calendar_app.sources import services as sources
    from tests.calendar_app.knowledge.conftest import ingest_finish as knowledge_finish
    from tests.calendar_app.sources.conftest import ingest_finish as source_finish

    settings.SOURCE_UPLOAD_DIR = str(tmp_path / "sources")
    for name in ("enqueue", "enqueue_sources", "enqueue_knowledge"):
        monkeypatch.setattr(dispatch, name, lambda ids: None)
    sandbox = sandbox_factory(ingest_seconds=(0.3, 0.5), queue_seconds=0.1)
    connect(sandbox, team.workspace)

    source = sources.source_create_text(
        user=team.editor, project=team.project, text="We hired three people in March."
    )
    document = knowledge_add(
        workspace=team.workspace,
        project=team.project,
        kind="text",
        content="Our office dog is called Biscuit.",
        user=team.manager,
        role=Role.MANAGER,
    )

    assert source_finish(source.pk).status == "ready"
    assert knowledge_finish(document.pk).state == "indexed"
    assert stored(team.workspace).key_state == ScripeConnection.KeyState.VALID


def test_reconnecting_after_the_calendar_needs_more_scopes_registers_again_and_asks_for_all(
    team, sandbox
):
    """A registration stored before the calendar asked for sources and knowledge: Scripe will
    not authorize scopes its client did not register, so connecting again registers anew
    and asks for them all, while a workspace whose grant belongs to the first registration
    keeps refreshing with it."""
    from scripe_integration.models import ScripeOAuthApp

    connect(sandbox, team.other_workspace)
    first = ScripeOAuthApp.objects.get()
    before_the_fix = {k: v for k, v in first.server.items() if k != "scope"}
    ScripeOAuthApp.objects.filter(pk=first.pk).update(server=before_the_fix)

    ScripeConnection.objects.create(workspace=team.workspace, base_url=sandbox.base_url)
    started = services.oauth_start(workspace=team.workspace, redirect_uri=CALLBACK)
    connect(sandbox, team.workspace)

    asked = dict(parse_qsl(urlsplit(started.authorize_url).query))["scope"].split()
    assert asked == list(OAUTH_SCOPES)
    second = ScripeOAuthApp.objects.exclude(pk=first.pk).get()
    assert second.client_id != first.client_id
    assert stored(team.workspace).oauth_app == second
    assert {"sources:write", "knowledge:write"} <= set(stored(team.workspace).scopes)
    assert stored(team.other_workspace).oauth_app == first
    expire_access_token(team.other_workspace)
    assert key_verify(workspace=team.other_workspace)[0]  # refreshed with the first client
    assert services.oauth_app_for(base_url=sandbox.base_url, redirect_uri=CALLBACK) == second
