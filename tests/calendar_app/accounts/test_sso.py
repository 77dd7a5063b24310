"""Single sign-on end to end (accounts/sso.py, accounts/sso_adapter.py): the calendar, through
allauth's openid_connect provider, against a real OpenID Connect provider
(django-oauth-toolkit) running in a second process. Nothing of the flow is mocked: the
browser's part is played by an HTTP client that logs in on the provider's page."""

from __future__ import annotations

import html
import re
import uuid
from urllib.parse import urljoin, urlsplit

import httpx
import pytest
from django.contrib.auth import get_user_model

from calendar_app.access import viewer_of
from calendar_app.accounts import invitations, sso
from calendar_app.models import Invitation, InvitationState, Membership, Role, SingleSignOn
from tests.oidc_provider import CLIENT_ID, CLIENT_SECRET, OidcProvider

SSO_ID = uuid.UUID("0b6f1d2e-5c3a-4e8b-9f71-28d4c1a0e5b7")
CALLBACK = f"http://testserver/accounts/oidc/{SSO_ID}/login/callback/"
USERS = [
    ("alice", "pw-alice", "alice@acme.test", True),
    ("erin.idp", "pw-erin", "erin@acme.test", True),
    ("mallory", "pw-mallory", "mallory@evil.test", True),
    ("victor", "pw-victor", "victor@acme.test", False),
]


@pytest.fixture(scope="module")
def idp(tmp_path_factory):
    provider = OidcProvider(tmp_path_factory.mktemp("idp"), users=USERS, redirect_uris=[CALLBACK])
    yield provider
    provider.stop()


@pytest.fixture
def acme_sso(team, idp, settings) -> SingleSignOn:
    settings.SSO_ALLOW_LOCAL_HOSTS = True
    provider = sso.sso_save(
        workspace=team.workspace,
        label="Acme",
        issuer_url=idp.issuer,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        allowed_domains="acme.test",
        new_member_role=Role.MANAGER,
        enabled=True,
    )
    SingleSignOn.objects.filter(pk=provider.pk).update(public_id=SSO_ID)
    provider.refresh_from_db()
    return provider


def sign_in(client, username: str, password: str):
    """Presses "Sign in with Acme", logs in on the provider's page, and follows the
    provider back to the calendar's callback; returns the calendar's answer to it."""
    start = client.post(f"/accounts/oidc/{SSO_ID}/login/")
    assert start.status_code == 200, start.content.decode()[:2000]
    # A page that moves on to the provider by itself (the form-action policy would stop a
    # redirect after the POST).
    found = re.search(r'http-equiv="refresh" content="0;url=([^"]+)"', start.content.decode())
    authorize = html.unescape(found.group(1))
    assert authorize.startswith(f"{idp_issuer(client)}/authorize/"), authorize
    with httpx.Client(follow_redirects=False, timeout=10) as browser:
        answer = browser.get(authorize)
        login_page = urljoin(authorize, answer.headers["location"])
        form = browser.get(login_page)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text).group(1)
        answer = browser.post(
            login_page,
            data={"username": username, "password": password, "csrfmiddlewaretoken": token},
        )
        assert answer.status_code == 302, answer.text[:2000]
        answer = browser.get(urljoin(login_page, answer.headers["location"]))
        callback = answer.headers["location"]
    assert callback.startswith(CALLBACK), callback
    parts = urlsplit(callback)
    return client.get(f"{parts.path}?{parts.query}", follow=True)


def idp_issuer(client) -> str:
    return SingleSignOn.objects.get(public_id=SSO_ID).issuer_url


def signed_in_user(client):
    return get_user_model().objects.filter(pk=client.session.get("_auth_user_id")).first()


def test_the_log_in_page_offers_the_workspaces_provider(client, acme_sso):
    page = client.get("/accounts/login/").content.decode()
    assert "Sign in with Acme" in page
    assert f"/accounts/oidc/{SSO_ID}/login/" in page


def test_a_first_sign_in_makes_a_member_with_the_providers_role(client, team, acme_sso):
    response = sign_in(client, "alice", "pw-alice")
    alice = signed_in_user(client)
    assert alice is not None and alice.email == "alice@acme.test"
    assert response.redirect_chain[-1][0] == "/"
    membership = Membership.objects.get(user=alice)
    assert (membership.workspace, membership.role) == (team.workspace, Role.MANAGER)
    assert not alice.has_usable_password()


def test_a_pending_invitation_gives_its_role_and_is_used_up(client, team, acme_sso, mailoutbox):
    invitations.invitation_create(
        viewer=viewer_of(team.admin),
        workspace=team.workspace,
        email="alice@acme.test",
        role=Role.EDITOR,
    )
    sign_in(client, "alice", "pw-alice")
    alice = signed_in_user(client)
    # The invitation's role, not the provider's (Manager); the link no longer works.
    assert Membership.objects.get(user=alice, workspace=team.workspace).role == Role.EDITOR
    assert not Invitation.objects.filter(state=InvitationState.PENDING).exists()


def test_a_second_sign_in_is_the_same_person(client, team, acme_sso):
    sign_in(client, "alice", "pw-alice")
    first = signed_in_user(client)
    client.logout()
    sign_in(client, "alice", "pw-alice")
    assert signed_in_user(client) == first
    assert get_user_model().objects.filter(email="alice@acme.test").count() == 1
    assert Membership.objects.filter(user=first).count() == 1


def test_an_existing_account_with_the_email_is_connected_and_keeps_its_role(client, team, acme_sso):
    team.editor.email = "Erin@acme.test"
    team.editor.save()
    sign_in(client, "erin.idp", "pw-erin")
    assert signed_in_user(client) == team.editor
    assert Membership.objects.get(user=team.editor).role == Role.EDITOR


def test_an_account_outside_the_workspace_is_not_taken_over(client, team, acme_sso):
    # A workspace's admin picks the provider and the domains: it must not vouch for a site
    # operator's account, nor one of another workspace, that happens to have the email.
    for account in (team.admin, team.outsider):
        get_user_model().objects.filter(email="erin@acme.test").update(email="")
        account.email = "erin@acme.test"
        account.save()
        response = sign_in(client, "erin.idp", "pw-erin")
        assert signed_in_user(client) is None
        assert "already exists outside Acme" in response.content.decode()
    assert not Membership.objects.filter(user=team.outsider, workspace=team.workspace).exists()


def test_an_email_domain_not_allowed_is_refused(client, acme_sso):
    response = sign_in(client, "mallory", "pw-mallory")
    assert signed_in_user(client) is None
    page = response.content.decode()
    assert "mallory@evil.test cannot sign in with Acme" in page
    assert not get_user_model().objects.filter(email="mallory@evil.test").exists()


def test_an_unverified_email_is_refused(client, acme_sso):
    response = sign_in(client, "victor", "pw-victor")
    assert signed_in_user(client) is None
    assert "Acme has not verified your email address victor@acme.test" in (
        response.content.decode()
    )
    assert not get_user_model().objects.filter(email="victor@acme.test").exists()


def test_a_provider_that_is_off_is_not_offered_nor_usable(client, acme_sso):
    SingleSignOn.objects.filter(pk=acme_sso.pk).update(enabled=False)
    assert "Sign in with Acme" not in client.get("/accounts/login/").content.decode()
    assert client.post(f"/accounts/oidc/{SSO_ID}/login/").status_code == 404


def test_sso_only_refuses_a_members_password_and_points_to_the_button(client, team, acme_sso):
    SingleSignOn.objects.filter(pk=acme_sso.pk).update(sso_only=True)
    response = client.post(
        "/accounts/login/", {"login": team.manager.username, "password": "pw"}, follow=True
    )
    assert signed_in_user(client) is None
    assert "use the “Sign in with Acme” button" in response.content.decode()


def test_sso_only_still_lets_site_staff_use_their_password(client, team, acme_sso):
    SingleSignOn.objects.filter(pk=acme_sso.pk).update(sso_only=True)
    assert team.admin.is_staff
    client.post("/accounts/login/", {"login": team.admin.username, "password": "pw"})
    assert signed_in_user(client) == team.admin


def test_sso_only_still_lets_members_sign_in_with_the_provider(client, team, acme_sso):
    SingleSignOn.objects.filter(pk=acme_sso.pk).update(sso_only=True)
    sign_in(client, "alice", "pw-alice")
    assert signed_in_user(client).email == "alice@acme.test"


def test_sso_only_sends_no_password_reset_link(client, team, acme_sso, mailoutbox):
    SingleSignOn.objects.filter(pk=acme_sso.pk).update(sso_only=True)
    team.manager.email = "max@acme.test"
    team.manager.save()
    client.post("/accounts/password/reset/", {"email": "max@acme.test"})
    assert len(mailoutbox) == 1
    assert "Sign in with Acme" in mailoutbox[0].body
    assert "/accounts/password/reset/key/" not in mailoutbox[0].body


def test_an_issuer_the_server_may_not_call_is_not_called(client, acme_sso, settings):
    settings.SSO_ALLOW_LOCAL_HOSTS = False
    response = client.post(f"/accounts/oidc/{SSO_ID}/login/", follow=True)
    assert signed_in_user(client) is None
    assert "Signing in with Acme did not work" in response.content.decode()
