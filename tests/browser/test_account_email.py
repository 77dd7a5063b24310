"""allauth's page for changing one's email address, in Chromium: with a change waiting for
its confirmation it breaks no rule of the Content Security Policy."""

from __future__ import annotations

import pytest
from allauth.account.models import EmailAddress
from playwright.sync_api import expect

from tests.browser.conftest import Journey


@pytest.mark.browser
def test_a_pending_email_change_page_breaks_no_content_security_rule(browser, live_server, team):
    # allauth hid its re-send form with an inline style, which the CSP refused (a console error).
    EmailAddress.objects.create(
        user=team.editor, email=team.editor.email, primary=True, verified=True
    )
    EmailAddress.objects.create(user=team.editor, email="erin.new@example.com", verified=False)
    journey = Journey(browser, live_server, team, None, "email_change_pending")
    try:
        page = journey.page_for(team.editor)
        page.goto(f"{journey.url}/accounts/email/")
        expect(page.get_by_role("button", name="Re-send Verification")).to_be_visible()
        assert page.locator("form#pending-email").is_hidden()
    finally:
        journey.finish()
