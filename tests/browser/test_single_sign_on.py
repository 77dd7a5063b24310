"""Single sign-on in Chromium: an admin sets up the workspace's provider on its settings
page, then a newcomer presses "Sign in with Acme" on the log-in page, logs in on the
provider's own page (django-oauth-toolkit in a second process) and is back in the calendar."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from calendar_app.models import Membership, Role, SingleSignOn
from scripe_integration.crypto import encrypt
from tests.browser.conftest import Journey
from tests.oidc_provider import CLIENT_ID, CLIENT_SECRET, OidcProvider


@pytest.mark.browser
def test_a_newcomer_signs_in_with_the_company_provider(
    browser, live_server, team, settings, tmp_path
):
    settings.SSO_ALLOW_LOCAL_HOSTS = True
    journey = Journey(browser, live_server, team, None, "single_sign_on")
    idp = None
    try:
        admin = journey.page_for(team.admin)
        admin.goto(f"{journey.url}/settings/")
        admin.locator("#single-sign-on").get_by_role("link", name="Acme").click()
        # The issuer comes from a provider started below: first the redirect URI, which
        # this page shows once saved, must be registered with it.
        admin.get_by_label("Issuer URL").fill("http://127.0.0.1:9/o")
        admin.get_by_label("Client ID").fill(CLIENT_ID)
        admin.get_by_label("Client secret").fill(CLIENT_SECRET)
        admin.get_by_label("Allowed email domains").fill("acme.test")
        admin.get_by_label("Role of new members").select_option(Role.MANAGER)
        admin.get_by_role("button", name="Save").click()
        expect(admin.get_by_text("Single sign-on is saved.")).to_be_visible()
        callback = admin.locator("#sso-callback").inner_text()
        expect(admin.get_by_label("Client secret")).to_have_value("")

        idp = OidcProvider(
            tmp_path,
            users=[("alice", "pw-alice", "alice@acme.test", True)],
            redirect_uris=[callback],
        )
        admin.get_by_label("Issuer URL").fill(idp.issuer)
        admin.get_by_label("On: offer “Sign in with …” on the log-in page").check()
        admin.get_by_role("button", name="Save").click()
        expect(admin.get_by_text("Single sign-on is saved.")).to_be_visible()
        assert SingleSignOn.objects.get().enabled

        newcomer = journey.page_for(None)
        newcomer.goto(f"{journey.url}/accounts/login/")
        newcomer.get_by_role("button", name="Sign in with Acme").click()
        newcomer.get_by_role("heading", name="Test Identity Provider").wait_for()
        newcomer.get_by_label("Username").fill("alice")
        newcomer.get_by_label("Password").fill("pw-alice")
        newcomer.get_by_role("button", name="Sign in to the provider").click()
        newcomer.wait_for_url(f"{journey.url}/")
        membership = Membership.objects.get(user__email="alice@acme.test")
        assert (membership.workspace, membership.role) == (team.workspace, Role.MANAGER)
    finally:
        journey.finish()
        if idp is not None:
            idp.stop()


@pytest.mark.browser
def test_on_a_phone_the_settings_page_of_a_saved_provider_fits(browser, live_server, team):
    # The redirect URI, one long word, made the page wider than a 390 px screen.
    SingleSignOn.objects.create(
        workspace=team.workspace,
        label="Acme",
        issuer_url="https://login.example.com/realms/acme",
        client_id="calendar",
        client_secret_encrypted=encrypt("s3cret"),
        allowed_domains="acme.test",
    )
    journey = Journey(browser, live_server, team, None, "single_sign_on_phone")
    try:
        page = journey.page_for(team.admin)
        page.set_viewport_size({"width": 390, "height": 844})
        page.goto(f"{journey.url}/settings/sso/{team.workspace.public_id}/")
        expect(page.locator("#sso-callback")).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
    finally:
        journey.finish()
