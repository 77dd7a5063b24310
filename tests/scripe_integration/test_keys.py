"""Scripe API keys: encrypted at rest, write-only and masked in the admin, verifiable, never
leaked into pages, logs, reprs or error reports."""

from __future__ import annotations

import importlib
import logging
import sys
from datetime import timedelta
from io import StringIO

import httpx
import pytest
from cryptography.fernet import Fernet
from django.apps import apps
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection as db
from django.utils import timezone
from django.views.debug import ExceptionReporter

from scripe_integration import crypto, services
from scripe_integration.client import ScripeClient
from scripe_integration.models import ScripeConnection
from scripe_integration.services import (
    ScripeNotConfigured,
    connection_for,
    key_verify,
    scripe_session,
)

LIVE_KEY = "scripe_sk_live_8f3aQ2bX7cLmN9pRd401"


@pytest.fixture
def scripe(team):
    connection = connection_for(team.workspace)
    connection.save()
    return connection


def raw_key_column(pk: int) -> str:
    with db.cursor() as cursor:
        cursor.execute(
            "SELECT encrypted_key FROM scripe_integration_scripeconnection WHERE id = %s", [pk]
        )
        return cursor.fetchone()[0]


# at rest ---------------------------------------------------------------------------------------


def test_the_database_holds_ciphertext_only(scripe):
    scripe.set_key(LIVE_KEY)
    scripe.save()
    stored = raw_key_column(scripe.pk)
    assert LIVE_KEY not in stored and "8f3aQ2bX7cLmN9pR" not in stored
    assert ScripeConnection.objects.get(pk=scripe.pk).api_key == LIVE_KEY


def test_the_key_is_shown_masked_with_its_mode(scripe, team):
    scripe.set_key(LIVE_KEY, by=team.admin)
    assert scripe.masked_key == "scripe_sk_live_…d401"
    assert (scripe.key_mode, scripe.key_set_by, scripe.key_state) == (
        "live",
        team.admin,
        "unverified",
    )


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "sk_live_abc",
        "scripe_sk_prod_12345678",
        "scripe_sk_live_short",
        "scripe_sk_test_has space1",
    ],
)
def test_a_key_of_the_wrong_shape_is_refused_with_a_clear_message(scripe, bad):
    with pytest.raises(ValidationError, match="looks like scripe_sk_live_"):
        scripe.set_key(bad)


def test_rotation_keeps_old_values_readable_and_rewrites_them(settings, scripe):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.SCRIPE_KEY_ENCRYPTION_KEYS = [old]
    scripe.set_key(LIVE_KEY)
    scripe.save()
    settings.SCRIPE_KEY_ENCRYPTION_KEYS = [new, old]  # new key in front, old still listed
    assert ScripeConnection.objects.get(pk=scripe.pk).api_key == LIVE_KEY
    call_command("rotate_scripe_keys", stdout=StringIO())
    settings.SCRIPE_KEY_ENCRYPTION_KEYS = [new]  # the old key is gone
    assert ScripeConnection.objects.get(pk=scripe.pk).api_key == LIVE_KEY


def test_rotation_rewrites_the_webhook_secrets_too(settings, scripe):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.SCRIPE_KEY_ENCRYPTION_KEYS = [old]
    scripe.webhook_endpoint_id = "whe_1234567890abcdef"
    scripe.set_webhook_secret("whsec_first", keep_previous_for=None)
    scripe.set_webhook_secret("whsec_second", keep_previous_for=timedelta(minutes=15))
    scripe.save()
    settings.SCRIPE_KEY_ENCRYPTION_KEYS = [new, old]
    call_command("rotate_scripe_keys", stdout=StringIO())
    settings.SCRIPE_KEY_ENCRYPTION_KEYS = [new]  # the old key is gone
    assert ScripeConnection.objects.get(pk=scripe.pk).webhook_secrets() == [
        "whsec_second",
        "whsec_first",
    ]


def test_a_value_from_an_unknown_key_is_an_error_not_garbage(settings, scripe):
    scripe.set_key(LIVE_KEY)
    scripe.save()
    settings.SCRIPE_KEY_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(crypto.DecryptionError):
        _ = ScripeConnection.objects.get(pk=scripe.pk).api_key


# never leaked ----------------------------------------------------------------------------------


def test_reprs_never_show_the_key(scripe):
    scripe.set_key(LIVE_KEY)
    assert LIVE_KEY not in repr(scripe) and LIVE_KEY not in str(scripe)
    assert LIVE_KEY not in repr(ScripeClient("https://api.scripe.io/v1", LIVE_KEY))


def test_an_error_report_from_inside_the_client_hides_the_key(monkeypatch):
    def boom(**kwargs):
        raise RuntimeError("no connection pool today")

    monkeypatch.setattr("scripe_integration.client.httpx.Client", boom)
    try:
        ScripeClient("https://api.scripe.io/v1", LIVE_KEY)
    except RuntimeError:
        html = ExceptionReporter(None, *sys.exc_info()).get_traceback_html()
    assert "ScripeClient" in html
    assert "no connection pool today" in html
    assert LIVE_KEY not in html
    assert "scripe_sk_…(hidden)" in html


def test_no_page_or_log_line_shows_the_key(client, team, scripe, sandbox, caplog):
    scripe.base_url = sandbox.base_url
    scripe.set_key(sandbox.key)
    scripe.save()
    caplog.set_level(logging.DEBUG)
    key_verify(workspace=team.workspace)
    client.force_login(team.admin)
    team.admin.is_superuser = True
    team.admin.save()
    pages = [
        "/",
        "/projects/",
        "/slots/",
        f"/admin/calendar_app/workspace/{team.workspace.pk}/change/",
        "/admin/calendar_app/workspace/",
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        assert sandbox.key not in response.content.decode(), url
    assert sandbox.key not in caplog.text


# the admin -------------------------------------------------------------------------------------


def admin_form(team, key: str = "", base_url: str = "https://api.scripe.io/v1") -> dict:
    return {
        "name": team.workspace.name,
        "time_zone": "Europe/Berlin",
        "review_required": "on",
        "scripe-TOTAL_FORMS": "1",
        "scripe-INITIAL_FORMS": "0",
        "scripe-MIN_NUM_FORMS": "1",
        "scripe-MAX_NUM_FORMS": "1",
        "scripe-0-new_key": key,
        "scripe-0-base_url": base_url,
        "scripe-0-workspace": str(team.workspace.pk),
        "memberships-TOTAL_FORMS": "0",
        "memberships-INITIAL_FORMS": "0",
        "memberships-MIN_NUM_FORMS": "0",
        "memberships-MAX_NUM_FORMS": "1000",
    }


@pytest.fixture
def superuser(team):
    team.admin.is_superuser = True
    team.admin.save()
    return team.admin


def test_an_admin_sets_a_key_that_is_stored_encrypted_and_shown_masked(client, team, superuser):
    client.force_login(superuser)
    url = f"/admin/calendar_app/workspace/{team.workspace.pk}/change/"
    response = client.post(url, admin_form(team, LIVE_KEY), follow=True)
    assert response.status_code == 200
    scripe = ScripeConnection.objects.get(workspace=team.workspace)
    assert scripe.api_key == LIVE_KEY and scripe.key_set_by == superuser
    page = client.get(url).content.decode()
    assert "scripe_sk_live_…d401 (live key), set by ada" in page
    assert LIVE_KEY not in page


def change_form(team, scripe, key: str = "", base_url: str | None = None) -> dict:
    """The workspace's change form, for its existing connection."""
    form = admin_form(team, key, base_url=base_url or scripe.base_url)
    form.update({"scripe-INITIAL_FORMS": "1", "scripe-0-id": str(scripe.pk)})
    return form


def test_saving_without_a_key_keeps_the_old_one(client, team, superuser, scripe):
    scripe.set_key(LIVE_KEY)
    scripe.save()
    client.force_login(superuser)
    url = f"/admin/calendar_app/workspace/{team.workspace.pk}/change/"
    client.post(url, change_form(team, scripe))
    scripe.refresh_from_db()
    assert scripe.api_key == LIVE_KEY


# a key belongs to the base URL it was entered for ----------------------------------------------


def test_a_new_base_url_without_a_new_key_removes_the_key_and_says_so(
    client, team, superuser, scripe
):
    scripe.set_key(LIVE_KEY)
    scripe.save()
    client.force_login(superuser)
    url = f"/admin/calendar_app/workspace/{team.workspace.pk}/change/"
    form = change_form(team, scripe, base_url="http://127.0.0.1:8765/v1")
    response = client.post(url, form, follow=True)
    scripe.refresh_from_db()
    assert (scripe.base_url, scripe.key_state) == ("http://127.0.0.1:8765/v1", "missing")
    assert not scripe.has_key and scripe.api_key == ""
    assert "the stored key (scripe_sk_live_…d401) was removed" in response.content.decode()
    assert "Enter the key again for the new address." in response.content.decode()


@pytest.mark.parametrize("with_key", [False, True], ids=["without a key", "with a new key"])
def test_a_new_base_url_starts_with_nothing_known_of_its_reachability_or_rate_limit(
    client, team, superuser, scripe, sandbox_factory, with_key
):
    old, new = sandbox_factory(), sandbox_factory()
    wire(scripe, old, old.key)
    assert key_verify(workspace=team.workspace)[0]  # the old address's rate limit is known
    ScripeConnection.objects.filter(pk=scripe.pk).update(
        unreachable_since=timezone.now() - timedelta(minutes=5),
        hold_until=timezone.now() + timedelta(seconds=30),
        deprecation_notice='version="2026-01-15"',
    )
    scripe.refresh_from_db()
    assert scripe.rate_limit is not None
    client.force_login(superuser)
    url = f"/admin/calendar_app/workspace/{team.workspace.pk}/change/"
    key = new.key if with_key else ""
    assert (
        client.post(url, change_form(team, scripe, key=key, base_url=new.base_url)).status_code
        == 302
    )
    scripe.refresh_from_db()
    assert scripe.base_url == new.base_url
    assert (scripe.unreachable_since, scripe.hold_until) == (None, None)
    assert (scripe.rate_limit, scripe.rate_limit_remaining, scripe.rate_limit_seen_at) == (
        None,
        None,
        None,
    )
    assert scripe.deprecation_notice == ""
    page = client.get(url).content.decode()
    assert "No call to Scripe yet." in page
    assert "Scripe answered the last call (or none was made yet)." in page
    assert new.stats()["requestsTotal"] == 0


def test_saving_the_same_base_url_keeps_what_scripe_said(client, team, superuser, scripe, sandbox):
    wire(scripe, sandbox, sandbox.key)
    assert key_verify(workspace=team.workspace)[0]
    scripe.refresh_from_db()
    client.force_login(superuser)
    url = f"/admin/calendar_app/workspace/{team.workspace.pk}/change/"
    assert scripe.rate_limit is not None
    assert client.post(url, change_form(team, scripe)).status_code == 302
    assert ScripeConnection.objects.get(pk=scripe.pk).rate_limit == scripe.rate_limit


def test_after_a_new_base_url_nothing_reaches_the_new_address(
    client, team, superuser, scripe, sandbox_factory
):
    old, new = sandbox_factory(), sandbox_factory()
    wire(scripe, old, old.key)
    client.force_login(superuser)
    url = f"/admin/calendar_app/workspace/{team.workspace.pk}/change/"
    client.post(url, change_form(team, scripe, base_url=new.base_url))
    works, message = key_verify(workspace=team.workspace)
    assert not works and "no Scripe API key" in message
    assert new.stats()["requestsTotal"] == 0


def test_a_key_whose_base_url_changed_behind_the_models_back_is_never_sent(
    team, scripe, sandbox_factory
):
    old, new = sandbox_factory(), sandbox_factory()
    wire(scripe, old, old.key)
    ScripeConnection.objects.filter(pk=scripe.pk).update(base_url=new.base_url)
    moved = ScripeConnection.objects.get(pk=scripe.pk)
    assert moved.has_key  # still stored, since update() skips the model
    refused = pytest.raises(ScripeNotConfigured, match="enter the key again for the new address")
    with refused, scripe_session(moved) as scripe_client:
        scripe_client.workspace_me()
    assert new.stats()["requestsTotal"] == 0


def test_verify_refuses_a_key_entered_for_another_address(team, scripe, sandbox_factory):
    old, new = sandbox_factory(), sandbox_factory()
    wire(scripe, old, old.key)
    ScripeConnection.objects.filter(pk=scripe.pk).update(base_url=new.base_url)
    works, message = key_verify(workspace=team.workspace)
    assert not works and "must enter the key again for the new address" in message
    assert new.stats()["requestsTotal"] == 0


def test_a_new_base_url_with_a_new_key_keeps_the_new_key(
    client, team, superuser, scripe, sandbox_factory
):
    old, new = sandbox_factory(), sandbox_factory()
    wire(scripe, old, old.key)
    client.force_login(superuser)
    url = f"/admin/calendar_app/workspace/{team.workspace.pk}/change/"
    client.post(url, change_form(team, scripe, key=new.key, base_url=new.base_url))
    scripe.refresh_from_db()
    assert (scripe.base_url, scripe.key_base_url) == (new.base_url, new.base_url)
    assert scripe.api_key == new.key and scripe.key_state == "unverified"
    assert key_verify(workspace=team.workspace)[0]
    assert new.stats()["requests"]["GET /v1/workspaces/me"] == 1


def test_the_migration_gives_existing_keys_their_base_url(scripe):
    scripe.set_key(LIVE_KEY)
    scripe.save()
    ScripeConnection.objects.filter(pk=scripe.pk).update(key_base_url="")
    migration = importlib.import_module(
        "scripe_integration.migrations.0005_key_base_url_and_reachability"
    )
    migration.keys_belong_to_their_base_url(apps, None)
    scripe.refresh_from_db()
    assert scripe.key_base_url == scripe.base_url and scripe.key_is_for_base_url


def test_the_admin_refuses_a_malformed_key_next_to_the_field(client, team, superuser):
    client.force_login(superuser)
    url = f"/admin/calendar_app/workspace/{team.workspace.pk}/change/"
    response = client.post(url, admin_form(team, "sk-12345"))
    assert "A Scripe API key looks like scripe_sk_live_" in response.content.decode()
    assert not ScripeConnection.objects.filter(workspace=team.workspace).exclude(encrypted_key="")


def test_the_admin_list_shows_each_keys_state(client, team, superuser, scripe):
    scripe.set_key(LIVE_KEY)
    scripe.save()
    client.force_login(superuser)
    html = client.get("/admin/calendar_app/workspace/").content.decode()
    assert "Not verified" in html and "scripe_sk_live_…d401" in html


def test_editors_and_managers_cannot_reach_the_admin(client, team):
    for user in (team.editor, team.manager):
        client.force_login(user)
        assert client.get("/admin/calendar_app/workspace/").status_code == 302


# verifying -------------------------------------------------------------------------------------


def wire(scripe, sandbox, key: str) -> None:
    scripe.base_url = sandbox.base_url
    scripe.set_key(key)
    scripe.save()


def test_verifying_a_valid_key_stores_the_scripe_workspace(team, scripe, sandbox):
    wire(scripe, sandbox, sandbox.key)
    works, message = key_verify(workspace=team.workspace)
    scripe.refresh_from_db()
    assert works and "Sandbox Workspace" in message
    assert (scripe.key_state, scripe.plan) == ("valid", "ADVANCED")
    assert scripe.scripe_workspace_id.startswith("org_")
    assert "posts:write" in scripe.scopes and scripe.verified_at


def test_verifying_a_revoked_key_says_so_and_marks_it_invalid(team, scripe, sandbox):
    wire(scripe, sandbox, sandbox.key)
    sandbox.revoke(sandbox.key)
    works, message = key_verify(workspace=team.workspace)
    scripe.refresh_from_db()
    assert not works and "revoked" in message
    assert (scripe.key_state, scripe.key_error_code) == ("invalid", "key_revoked")


def test_verifying_an_unknown_key_says_so(team, scripe, sandbox):
    wire(scripe, sandbox, "scripe_sk_test_neverissued123")
    works, message = key_verify(workspace=team.workspace)
    scripe.refresh_from_db()
    assert not works and "does not recognise this key" in message
    assert scripe.key_error_code == "invalid_token"


def test_verifying_during_an_outage_leaves_the_key_state_alone(team, scripe, sandbox):
    wire(scripe, sandbox, sandbox.key)
    key_verify(workspace=team.workspace)
    sandbox.fault("GET /v1/workspaces/me", count=1, status=503)
    works, message = key_verify(workspace=team.workspace)
    scripe.refresh_from_db()
    assert not works and "could not be reached" not in message
    assert "temporary problem" in message
    assert scripe.key_state == "valid"


def test_the_verify_button_and_action_report_in_words(client, team, superuser, scripe, sandbox):
    wire(scripe, sandbox, sandbox.key)
    client.force_login(superuser)
    response = client.post(
        f"/admin/calendar_app/workspace/{team.workspace.pk}/verify-key/", follow=True
    )
    assert "Acme: The key works" in response.content.decode()
    sandbox.revoke(sandbox.key)
    response = client.post(
        "/admin/calendar_app/workspace/",
        {"action": "verify_keys", "_selected_action": [team.workspace.pk]},
        follow=True,
    )
    assert "Acme: This key was revoked in Scripe" in response.content.decode()


def scripe_answering(monkeypatch, response: httpx.Response) -> None:
    """Every Scripe call in services gets `response`, whatever it asked."""
    real = services.ScripeClient

    def client(*args, **kwargs) -> ScripeClient:
        transport = httpx.MockTransport(lambda request: response)
        return real(*args, transport=transport, **kwargs)

    monkeypatch.setattr(services, "ScripeClient", client)


MALFORMED = {
    "an HTML page": httpx.Response(200, html="<html><body>Welcome to nginx!</body></html>"),
    "JSON without the workspace": httpx.Response(200, json={"data": {"ok": True}}),
    "JSON of the wrong shape": httpx.Response(200, json={"workspace": "acme", "principal": 7}),
}


@pytest.mark.parametrize("answer", MALFORMED.values(), ids=MALFORMED.keys())
def test_the_verify_button_reports_an_answer_that_is_not_scripes_as_no_scripe_there(
    client, team, superuser, scripe, monkeypatch, answer
):
    # The same sentence as for a closed port: what else answers there is not told.
    scripe.set_key(LIVE_KEY)
    scripe.save()
    scripe_answering(monkeypatch, answer)
    client.force_login(superuser)
    response = client.post(f"/admin/calendar_app/workspace/{team.workspace.pk}/verify-key/")
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "Acme: Could not verify the key: Scripe could not be reached at this address." in page
    assert "the base URL is Scripe&#x27;s API root" in page


@pytest.mark.parametrize("answer", MALFORMED.values(), ids=MALFORMED.keys())
def test_an_unreadable_answer_does_not_count_as_a_working_key(team, scripe, monkeypatch, answer):
    scripe.set_key(LIVE_KEY)
    scripe.save()
    scripe_answering(monkeypatch, answer)
    works, _ = key_verify(workspace=team.workspace)
    scripe.refresh_from_db()
    assert not works
    assert (scripe.key_state, scripe.scripe_workspace_id) == ("unverified", "")


def test_members_see_a_banner_while_the_key_is_invalid(client, team, scripe):
    scripe.set_key(LIVE_KEY)
    scripe.mark_invalid(code="key_revoked", message="This key was revoked in Scripe.")
    client.force_login(team.editor)
    html = client.get("/").content.decode()
    assert "<strong>Acme</strong> has an invalid Scripe key: This key was revoked" in html
    assert "an admin fixes it" in html
    client.force_login(team.outsider)
    assert "Acme" not in client.get("/").content.decode()


@pytest.mark.parametrize("code", ["key_revoked", "invalid_token", "scope_missing"])
def test_the_key_banner_ends_each_sentence_once(client, team, scripe, code):
    """The reasons in KEY_ERRORS are sentences with their own full stop (#24)."""
    from scripe_integration.services import KEY_ERRORS

    scripe.set_key(LIVE_KEY)
    scripe.mark_invalid(code=code, message=KEY_ERRORS[code])
    client.force_login(team.editor)
    html = client.get("/").content.decode()
    assert f"{KEY_ERRORS[code]} Nothing can be sent to Scripe until" in html
    scripe.mark_invalid(code=code, message="Scripe refuses it")  # a reason without one
    html = client.get("/").content.decode()
    assert "Scripe refuses it. Nothing can be sent to Scripe until" in html


def test_member_and_role_changes_in_the_admin_are_recorded(client, team, superuser):
    from django.contrib.admin.models import LogEntry

    from calendar_app.models import Membership

    client.force_login(superuser)
    url = f"/admin/calendar_app/workspace/{team.workspace.pk}/change/"
    memberships = list(Membership.objects.filter(workspace=team.workspace).order_by("pk"))
    form = admin_form(team)
    form.update({
        "memberships-TOTAL_FORMS": str(len(memberships)),
        "memberships-INITIAL_FORMS": str(len(memberships)),
    })  # fmt: skip
    for i, membership in enumerate(memberships):
        role = "manager" if membership.user == team.editor else membership.role
        form.update({
            f"memberships-{i}-id": str(membership.pk),
            f"memberships-{i}-workspace": str(team.workspace.pk),
            f"memberships-{i}-user": str(membership.user_id),
            f"memberships-{i}-role": role,
        })  # fmt: skip
    response = client.post(url, form)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Membership.objects.get(user=team.editor).role == "manager"
    entry = LogEntry.objects.filter(object_id=str(team.workspace.pk)).latest("action_time")
    assert entry.user == superuser
    assert "Changed Role for membership “erin in Acme (Manager)”" in entry.get_change_message()


# a missing permission is named as Scripe named it ------------------------------------------------


def test_a_key_without_knowledge_write_is_told_that_and_not_posts(team, sandbox_factory):
    """QA: a knowledge ingest refused with 403 scope_missing made the banner say the key lacks
    "posts:read and posts:write", which it had."""
    from calendar_app.access import viewer_of
    from calendar_app.knowledge.ingest import knowledge_advance
    from calendar_app.knowledge.services import knowledge_add
    from calendar_app.models import KnowledgeDocument, Role
    from scripe_integration.sandbox import ALL_SCOPES

    key = "scripe_sk_test_noknowledge"
    sandbox = sandbox_factory(keys={key: tuple(s for s in ALL_SCOPES if s != "knowledge:write")})
    sandbox.key = key
    sandbox.wire(team.workspace)
    document = knowledge_add(
        workspace=team.workspace,
        project=team.project,
        kind="text",
        content="Our office dog is called Biscuit.",
        user=team.manager,
        role=Role.MANAGER,
    )

    knowledge_advance([document.pk])

    document = KnowledgeDocument.objects.get(pk=document.pk)
    assert "knowledge:write" in document.error_shown
    [problem] = viewer_of(team.admin).broken_keys
    assert "lacks the knowledge:write permission" in problem.problem
    assert "posts:" not in problem.problem


def test_an_oauth_connection_missing_a_scope_is_told_to_connect_again_for_it():
    from scripe_integration.contract import ScripeError

    connection = ScripeConnection(auth_method=ScripeConnection.AuthMethod.OAUTH)
    refused = ScripeError(
        code="scope_missing",
        message="Token lacks the required scope. Need one of: sources:write.",
        http_status=403,
        details={"required": ["sources:write", "knowledge:write"]},
    )

    problem = services.credential_problem(connection, refused)

    assert problem == (
        "The connection lacks the sources:write or knowledge:write permission. An admin "
        "presses “Connect with Scripe” again and approves it."
    )
    unnamed = ScripeError(code="scope_missing", message="No.", http_status=403)
    assert "posts:" not in services.credential_problem(connection, unnamed)
    assert "Connect with Scripe" in services.credential_problem(connection, unnamed)
