"""Two factors (#28): who must enrol is led through it at sign-in, TOTP and recovery codes sign
in (each code once), workspace admins set the rule on the settings page, and the Django admin
wants a second factor of staff."""

from __future__ import annotations

import time

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import (
    SECRET_SESSION_KEY,
    TOTP,
    format_hotp_value,
    generate_totp_secret,
    hotp_value,
)
from django.core.cache import cache

pytestmark = pytest.mark.django_db

PASSWORD = "pw"
ENROL = "/accounts/2fa/"


@pytest.fixture(autouse=True)
def _fresh_cache():
    # allauth remembers used TOTP codes in the cache; each test starts without.
    cache.clear()


def code_for(secret: str) -> str:
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


def log_in(client, user):
    return client.post("/accounts/login/", {"login": user.username, "password": PASSWORD})


@pytest.fixture
def required(team):
    team.workspace.require_two_factor_admins = True
    team.workspace.save()
    return team


def test_new_workspaces_require_two_factor_of_admins_only(team):
    from calendar_app.models import Workspace

    workspace = Workspace.objects.create(name="New")
    assert workspace.require_two_factor_admins and not workspace.require_two_factor_everyone


def test_an_admin_who_must_enrol_is_led_to_it_and_kept_there(client, required):
    assert log_in(client, required.admin)["Location"] == "/"
    response = client.get("/")
    assert response.status_code == 302 and response["Location"] == ENROL
    assert client.get("/slots/")["Location"] == ENROL
    page = client.get(ENROL, follow=True)
    assert "Your workspace asks for a second factor" in page.content.decode()
    # HTMX requests are sent there too, as a full-page redirect.
    assert client.get("/slots/", headers={"HX-Request": "true"})["HX-Redirect"] == ENROL
    # …except from the enrolment pages themselves, whose lazy parts (the bell) get nothing.
    lazy = client.get(
        "/notifications/bell/",
        headers={"HX-Request": "true", "HX-Current-URL": "http://testserver/accounts/2fa/"},
    )
    assert lazy.status_code == 204


def test_enrolling_totp_opens_the_app(client, required):
    log_in(client, required.admin)
    # allauth asks for the password again before a second factor is added.
    asked = client.get("/accounts/2fa/totp/activate/")
    assert asked["Location"].startswith("/accounts/reauthenticate/")
    client.post(asked["Location"], {"password": PASSWORD})
    assert client.get("/accounts/2fa/totp/activate/").status_code == 200
    secret = client.session[SECRET_SESSION_KEY]
    wrong = client.post("/accounts/2fa/totp/activate/", {"code": "000000"})
    assert wrong.status_code == 200 and "Incorrect code." in wrong.content.decode()
    assert client.get("/")["Location"] == ENROL  # nothing enrolled
    response = client.post("/accounts/2fa/totp/activate/", {"code": code_for(secret)})
    assert response.status_code == 302
    assert client.get("/").status_code == 200


def test_an_editor_is_not_asked_unless_everyone_is(client, required):
    log_in(client, required.editor)
    assert client.get("/").status_code == 200
    client.logout()
    required.workspace.require_two_factor_everyone = True
    required.workspace.save()
    log_in(client, required.editor)
    assert client.get("/")["Location"] == ENROL


def test_a_guest_review_link_is_not_affected(client, required):
    log_in(client, required.admin)
    # No such link: the guest page's own 404, not the enrolment redirect.
    assert client.get("/r/not-a-token/").status_code == 404


def test_totp_sign_in_asks_for_the_code_after_the_password(client, team):
    secret = generate_totp_secret()
    TOTP.activate(team.editor, secret)
    response = log_in(client, team.editor)
    assert response["Location"] == "/accounts/2fa/authenticate/"
    assert client.get("/").status_code == 302  # not signed in yet
    wrong = client.post("/accounts/2fa/authenticate/", {"code": "123456"})
    assert "Incorrect code." in wrong.content.decode()
    response = client.post("/accounts/2fa/authenticate/", {"code": code_for(secret)})
    assert response.status_code == 302
    assert client.get("/").status_code == 200


def test_a_recovery_code_signs_in_once(client, team):
    TOTP.activate(team.editor, generate_totp_secret())
    codes = RecoveryCodes.activate(team.editor).get_unused_codes()
    log_in(client, team.editor)
    assert client.post("/accounts/2fa/authenticate/", {"code": codes[0]}).status_code == 302
    assert client.get("/").status_code == 200
    client.logout()
    log_in(client, team.editor)
    reused = client.post("/accounts/2fa/authenticate/", {"code": codes[0]})
    assert reused.status_code == 200 and "Incorrect code." in reused.content.decode()
    assert client.get("/").status_code == 302
    assert client.post("/accounts/2fa/authenticate/", {"code": codes[1]}).status_code == 302


# The workspace's rule on the settings page ------------------------------------------------------
def rule_url(workspace) -> str:
    return f"/settings/two-factor/{workspace.public_id}/"


def test_a_workspace_admin_sets_the_rule(client, team):
    client.force_login(team.admin)
    page = client.get("/settings/").content.decode()
    assert "Two-factor in Acme" in page and rule_url(team.workspace) in page
    response = client.post(rule_url(team.workspace), {"admins": "on", "everyone": "on"})
    assert response["Location"] == "/settings/#sign-in"
    team.workspace.refresh_from_db()
    assert team.workspace.require_two_factor_admins and team.workspace.require_two_factor_everyone
    client.post(rule_url(team.workspace), {})
    team.workspace.refresh_from_db()
    assert not team.workspace.require_two_factor_admins


def test_only_admins_set_the_rule(client, team):
    client.force_login(team.manager)
    assert "Two-factor in Acme" not in client.get("/settings/").content.decode()
    assert client.post(rule_url(team.workspace), {"everyone": "on"}).status_code == 403
    team.workspace.refresh_from_db()
    assert not team.workspace.require_two_factor_everyone


def test_another_workspaces_rule_is_404(client, team):
    client.force_login(team.admin)
    assert client.post(rule_url(team.other_workspace), {"everyone": "on"}).status_code == 404
    team.other_workspace.refresh_from_db()
    assert not team.other_workspace.require_two_factor_everyone


def test_the_rule_wants_a_signed_in_post(client, team):
    assert client.post(rule_url(team.workspace))["Location"].startswith("/accounts/login/")
    client.force_login(team.admin)
    assert client.get(rule_url(team.workspace)).status_code == 405


# The Django admin ------------------------------------------------------------------------------
def test_the_admin_wants_a_second_factor_of_staff(client, team, settings):
    settings.ADMIN_REQUIRES_TWO_FACTOR = True
    client.force_login(team.admin)  # staff
    response = client.get("/admin/")
    assert response.status_code == 302 and response["Location"] == ENROL
    TOTP.activate(team.admin, generate_totp_secret())
    assert client.get("/admin/").status_code == 200


def test_the_admin_log_in_goes_through_the_second_factor(client, team):
    TOTP.activate(team.admin, generate_totp_secret())
    assert client.get("/admin/login/?next=/admin/")["Location"] == (
        "/accounts/login/?next=%2Fadmin%2F"
    )
    response = client.post(
        "/accounts/login/?next=%2Fadmin%2F", {"login": team.admin.username, "password": PASSWORD}
    )
    assert response["Location"] == "/accounts/2fa/authenticate/"
    assert not Authenticator.objects.filter(user=team.editor).exists()
