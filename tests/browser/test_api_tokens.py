"""Making and revoking an API token on the settings page, in Chromium: the token is shown
once, works against the API, and stops working once revoked."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import expect

from calendar_app.models import Membership, Role
from tests.browser.conftest import Journey


@pytest.mark.browser
def test_a_person_makes_a_token_uses_it_and_revokes_it(browser, live_server, team):
    # A manager elsewhere: the scopes offered follow the workspace picked.
    Membership.objects.create(user=team.editor, workspace=team.other_workspace, role=Role.MANAGER)
    journey = Journey(browser, live_server, team, None, "api_tokens")
    try:
        page = journey.page_for(team.editor)
        page.goto(f"{journey.url}/settings/")
        tokens = page.locator("#api-tokens")
        tokens.get_by_text("You have no API tokens.").wait_for()
        review = page.get_by_label("Review: decide on drafts (managers)")
        review_hint = page.get_by_text("Only managers and admins of the chosen workspace")
        page.select_option("#token-workspace", str(team.other_workspace.public_id))
        expect(review).to_be_enabled()
        expect(review_hint).to_be_hidden()
        review.check()
        page.select_option("#token-workspace", str(team.workspace.public_id))
        expect(review).to_be_disabled()
        expect(review).not_to_be_checked()
        expect(review_hint).to_be_visible()
        expect(page.get_by_label("Admin: the workspace's settings (admins)")).to_be_disabled()
        page.fill("#token-name", "Spreadsheet sync")
        page.get_by_label("Plan: plan, change, move and delete posts; generate").check()
        page.select_option("#token-expires_in_days", "30")
        page.get_by_role("button", name="Make token").click()

        secret = page.locator("#new-token").input_value()
        assert secret.startswith("scal_")
        row = page.locator(".token-row", has_text="Spreadsheet sync")
        assert "read, plan" in row.inner_text()
        posts = f"{journey.url}/api/v1/posts/"
        bearer = {"Authorization": f"Bearer {secret}"}
        assert httpx.get(posts, headers=bearer).status_code == 200

        # Shown once: a reload (a GET, the form was redirected) lists the token, not its
        # secret, and makes no second token.
        assert page.url.endswith("/settings/#api-tokens")
        page.reload()
        page.locator(".token-row", has_text="Spreadsheet sync").wait_for()
        assert page.locator("#new-token").count() == 0
        assert page.locator(".token-row").count() == 1
        assert secret not in page.content()
        page.get_by_role("button", name="Revoke Spreadsheet sync").click()
        page.get_by_text("Token “Spreadsheet sync” revoked; it no longer works.").wait_for()
        assert "Revoked" in page.locator(".token-row", has_text="Spreadsheet sync").inner_text()
        assert httpx.get(posts, headers=bearer).status_code == 401
    finally:
        journey.finish()


@pytest.mark.browser
def test_the_api_docs_load_from_the_app_alone(browser, live_server, team):
    """Swagger UI from the package, under the site's policy (no CDN, no inline script)."""
    journey = Journey(browser, live_server, team, None, "api_docs")
    try:
        page = journey.page_for(None)
        page.goto(f"{journey.url}/api/docs/")
        page.get_by_role("heading", name="Scripe Calendar API").wait_for()
        page.get_by_text("/api/v1/posts/", exact=True).first.wait_for()
    finally:
        journey.finish()
