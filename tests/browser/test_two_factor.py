"""Two factors in a browser (#28): an admin whose workspace requires it is led through TOTP
enrolment at sign-in, signs out and back in with a code computed here; a person adds a passkey
with Chromium's virtual authenticator (DevTools' WebAuthn domain) and signs in with it alone."""

from __future__ import annotations

import time

import pytest
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value


def code_at(secret: str, step: int) -> str:
    return format_hotp_value(hotp_value(secret, step))


def new_page(browser, problems: list[str]):
    context = browser.new_context(viewport={"width": 1300, "height": 950})
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.on(
        "console",
        lambda m: (
            m.type in ("error", "warning")
            # The machine's network interfaces changing under Chromium (other servers coming
            # and going), not the app: a load it cancels is retried by the page's next step.
            and "net::ERR_NETWORK_CHANGED" not in m.text
            and problems.append(m.text)
        ),
    )
    page.on("pageerror", lambda e: problems.append(str(e)))
    return page


def log_in(page, url: str, username: str) -> None:
    page.goto(f"{url}/accounts/login/")
    page.fill("#id_login", username)
    page.fill("#id_password", "pw")
    page.get_by_role("button", name="Log in", exact=True).click()


def confirm_password(page) -> None:
    """allauth asks for the password again before a second factor is added."""
    page.wait_for_url("**/accounts/reauthenticate/**")
    page.fill("#id_password", "pw")
    page.get_by_role("button", name="Confirm").click()


@pytest.mark.browser
def test_an_admin_enrols_totp_at_sign_in_and_signs_in_with_a_code(
    browser, live_server, team, settings
):
    # One step of clock drift allowed: the sign-in uses the next step's code at once rather
    # than waiting up to 30 s for the authenticator's next one (a code is good once).
    settings.MFA_TOTP_TOLERANCE = 1
    team.workspace.require_two_factor_admins = True
    team.workspace.save()
    problems: list[str] = []
    page = new_page(browser, problems)
    url = live_server.url

    log_in(page, url, team.admin.username)
    page.wait_for_url(f"{url}/accounts/2fa/")
    page.get_by_text("Your workspace asks for a second factor").wait_for()
    page.goto(f"{url}/slots/")  # the app stays closed
    page.wait_for_url(f"{url}/accounts/2fa/")
    page.get_by_role("link", name="Activate").click()
    confirm_password(page)
    page.wait_for_url(f"{url}/accounts/2fa/totp/activate/")
    secret = page.input_value("#authenticator_secret")
    page.fill("#id_code", "000000")
    page.get_by_role("button", name="Activate").click()
    page.get_by_text("Incorrect code.").wait_for()
    enrolled_step = int(time.time()) // 30
    page.fill("#id_code", code_at(secret, enrolled_step))
    page.get_by_role("button", name="Activate").click()
    page.wait_for_url(lambda u: "/activate/" not in u)
    page.goto(f"{url}/")
    page.get_by_role("link", name="Calendar").first.wait_for()

    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(f"{url}/accounts/login/")
    log_in(page, url, team.admin.username)
    page.wait_for_url(f"{url}/accounts/2fa/authenticate/")
    page.fill("#id_code", code_at(secret, enrolled_step + 1))
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url(f"{url}/")
    page.get_by_role("link", name="Calendar").first.wait_for()
    page.context.close()
    assert problems == []


@pytest.mark.browser
def test_a_passkey_is_added_and_signs_in_alone(browser, live_server, team):
    problems: list[str] = []
    page = new_page(browser, problems)
    url = live_server.url
    devtools = page.context.new_cdp_session(page)
    devtools.send("WebAuthn.enable")
    devtools.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )

    log_in(page, url, team.editor.username)
    page.wait_for_url(f"{url}/")
    page.goto(f"{url}/settings/")
    page.get_by_role("link", name="Two-factor authentication").click()
    page.wait_for_url(f"{url}/accounts/2fa/")
    page.get_by_role("link", name="Add").click()
    confirm_password(page)
    page.wait_for_url(f"{url}/accounts/2fa/webauthn/add/**")
    page.fill("#id_name", "Laptop")
    page.check("#id_passwordless")
    page.get_by_role("button", name="Add").click()
    page.wait_for_url(lambda u: "/webauthn/add/" not in u)

    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(f"{url}/accounts/login/")
    page.get_by_role("button", name="Log in with a passkey").click()
    page.wait_for_url(f"{url}/")
    page.get_by_role("link", name="Calendar").first.wait_for()
    page.context.close()
    assert problems == []
