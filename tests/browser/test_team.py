"""Inviting someone into the team, in Chromium (#28): a manager invites from the team page,
the invitee opens the link from the email that was sent, sets a name and password and lands
on the calendar; the manager sees them in the team, and revokes another invitation."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

from calendar_app.models import Membership
from tests.browser.conftest import Journey
from tests.browser.test_two_factor import code_at


@pytest.mark.browser
def test_a_manager_invites_and_the_invitee_joins_from_the_email(
    browser, live_server, team, mailoutbox, settings
):
    settings.EMAIL_LINK_BASE_URL = live_server.url
    journey = Journey(browser, live_server, team, None, "team_invitation")
    try:
        page = journey.page_for(team.manager)
        page.get_by_role("link", name="Team").click()
        expect(page.get_by_role("heading", name="Team of Acme")).to_be_visible()

        # A role above one's own is not offered; an address that is no address is refused.
        options = page.locator("#invite-role option").all_inner_texts()
        assert options == ["Editor", "Manager"]
        journey.allowed_statuses.add(422)
        page.fill("#invite-email", "nina@example")
        page.get_by_role("button", name="Send invitation").click()
        expect(page.locator(".field-error")).to_contain_text("Enter a valid email address.")
        # Focus is on the field to fix, not back at the top of the page.
        expect(page.locator("#invite-email")).to_be_focused()

        page.fill("#invite-email", "nina@example.com")
        page.select_option("#invite-role", "manager")
        page.get_by_role("button", name="Send invitation").click()
        expect(page.get_by_text("Invitation sent to nina@example.com")).to_be_visible()
        expect(page.locator("#team-invitations")).to_contain_text("nina@example.com")

        # A second invitation, revoked in place (HTMX swaps the list).
        page.fill("#invite-email", "oops@example.com")
        page.get_by_role("button", name="Send invitation").click()
        page.get_by_role("button", name="Revoke the invitation to oops@example.com").click()
        expect(page.locator("#team-invitations")).not_to_contain_text("oops@example.com")

        message = next(m for m in mailoutbox if m.to == ["nina@example.com"])
        link = re.search(r"http\S+/invitations/\S+/", message.body).group(0)

        guest = journey.page_for(None)
        guest.goto(link)
        expect(guest.get_by_role("heading", name="Join Acme")).to_be_visible()
        guest.get_by_label("First name").fill("Nina")
        guest.get_by_label("Last name").fill("Berg")
        guest.get_by_label("Password", exact=True).fill("plum-harbour-87-lantern")
        guest.get_by_label("Password again").fill("plum-harbour-87-lantern")
        guest.get_by_role("button", name="Create my account and join").click()
        guest.wait_for_url(f"{journey.url}/")
        expect(guest.get_by_text("Welcome to Acme: you are manager there.")).to_be_visible()
        assert Membership.objects.get(user__email="nina@example.com").role == "manager"

        # The link worked once.
        journey.allowed_statuses.add(410)
        guest.goto(link)
        expect(
            guest.get_by_role("heading", name="This invitation was used already")
        ).to_be_visible()

        page.reload()
        expect(page.locator("#team-members")).to_contain_text("Nina Berg")
        expect(page.locator("#team-invitations")).to_contain_text("No invitations waiting.")
    finally:
        journey.finish()


@pytest.mark.browser
def test_a_person_signs_out_their_other_sessions(browser, live_server, team):
    journey = Journey(browser, live_server, team, None, "sessions")
    try:
        phone = journey.page_for(team.editor)
        laptop = journey.page_for(team.editor)
        laptop.goto(f"{journey.url}/settings/")
        rows = laptop.locator("#sessions .session-row")
        expect(rows).to_have_count(2)
        expect(rows.first).to_contain_text("(this session)")
        expect(rows.first).to_contain_text("on Linux")
        laptop.get_by_role("button", name="Sign out all other sessions").click()
        # The page went down to its sessions, past the message at its top: it floats in sight.
        message = laptop.get_by_text("1 other session signed out.")
        expect(message).to_be_in_viewport()
        expect(rows).to_have_count(1)
        phone.reload()
        phone.wait_for_url(f"{journey.url}/accounts/login/?next=/")
    finally:
        journey.finish()


@pytest.mark.browser
def test_an_invited_manager_joins_enrols_totp_and_signs_back_in_with_a_code(
    browser, live_server, team, mailoutbox, settings
):
    # The journey (#28): an admin invites a manager into a workspace that asks
    # everyone for a second factor; she accepts, is led through TOTP enrolment, signs out and
    # signs in with a code from her authenticator app.
    settings.EMAIL_LINK_BASE_URL = live_server.url
    # One step of clock drift allowed, so the sign-in can use the next step's code at once
    # instead of waiting up to 30 s for a new one (a code is good once).
    settings.MFA_TOTP_TOLERANCE = 1
    journey = Journey(browser, live_server, team, None, "team_invitation_two_factor")
    try:
        admin = journey.page_for(team.admin)
        # The rule is checked at each sign-in: the admin is in already.
        team.workspace.require_two_factor_everyone = True
        team.workspace.save(update_fields=["require_two_factor_everyone"])
        admin.goto(f"{journey.url}/team/{team.workspace.public_id}/")
        admin.fill("#invite-email", "maria@example.com")
        admin.select_option("#invite-role", "manager")
        admin.get_by_role("button", name="Send invitation").click()
        expect(admin.get_by_text("Invitation sent to maria@example.com")).to_be_visible()
        message = next(m for m in mailoutbox if m.to == ["maria@example.com"])
        link = re.search(r"http\S+/invitations/\S+/", message.body).group(0)

        maria = journey.page_for(None)
        maria.goto(link)
        maria.get_by_label("First name").fill("Maria")
        maria.get_by_label("Password", exact=True).fill("quiet-meadow-42-lantern")
        maria.get_by_label("Password again").fill("quiet-meadow-42-lantern")
        maria.get_by_role("button", name="Create my account and join").click()

        # Led to enrol before the calendar opens.
        maria.wait_for_url(f"{journey.url}/accounts/2fa/")
        maria.get_by_role("link", name="Activate").click()
        maria.wait_for_url("**/accounts/reauthenticate/**")
        maria.fill("#id_password", "quiet-meadow-42-lantern")
        maria.get_by_role("button", name="Confirm").click()
        maria.wait_for_url(f"{journey.url}/accounts/2fa/totp/activate/")
        secret = maria.input_value("#authenticator_secret")
        step = int(time.time()) // 30
        maria.fill("#id_code", code_at(secret, step))
        maria.get_by_role("button", name="Activate").click()
        maria.wait_for_url(lambda u: "/activate/" not in u)
        maria.goto(f"{journey.url}/")
        maria.get_by_role("link", name="Calendar").first.wait_for()

        maria.get_by_role("button", name="Log out").click()
        maria.wait_for_url(f"{journey.url}/accounts/login/")
        maria.fill("#id_login", "maria@example.com")
        maria.fill("#id_password", "quiet-meadow-42-lantern")
        maria.get_by_role("button", name="Log in", exact=True).click()
        maria.wait_for_url(f"{journey.url}/accounts/2fa/authenticate/")
        maria.fill("#id_code", code_at(secret, step + 1))
        maria.get_by_role("button", name="Sign In").click()
        maria.wait_for_url(f"{journey.url}/")
        expect(maria.get_by_role("link", name="Team")).to_be_visible()  # a manager's nav
        assert Membership.objects.get(user__email="maria@example.com").role == "manager"
    finally:
        journey.finish()


@pytest.mark.browser
def test_the_team_table_shows_names_and_addresses_as_written(browser, live_server, team):
    # A row's header is data: upper-casing it showed "NINA@EXAMPLE.COM", not the address.
    journey = Journey(browser, live_server, team, None, "team_row_headers")
    try:
        page = journey.page_for(team.admin)
        page.goto(f"{journey.url}/team/")
        row_header = page.locator("#team-members tbody th").first
        expect(row_header).to_be_visible()
        assert row_header.evaluate("th => getComputedStyle(th).textTransform") == "none"
        column_title = page.locator("#team-members thead th").first
        assert column_title.evaluate("th => getComputedStyle(th).textTransform") == "uppercase"
    finally:
        journey.finish()


@pytest.mark.browser
def test_the_sections_of_the_settings_and_team_pages_stand_apart(browser, live_server, team):
    # The sign-in, sessions and single sign-on sections were drawn edge to edge.
    journey = Journey(browser, live_server, team, None, "sections_apart")
    try:
        page = journey.page_for(team.admin)
        for path in ("/settings/", "/team/"):
            page.goto(f"{journey.url}{path}")
            gaps = page.evaluate(
                """() => [...document.querySelectorAll("main > .card + .card")].map(
                    card => card.getBoundingClientRect().top
                        - card.previousElementSibling.getBoundingClientRect().bottom)"""
            )
            assert gaps and min(gaps) >= 12, f"{path}: {gaps}"
    finally:
        journey.finish()
