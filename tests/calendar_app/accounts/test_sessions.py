"""A person's sessions on the settings page (#28): listed with device, address and when,
the current one marked; signing out one or all the others; a new password signs out the
others; "last seen" written at most every few minutes."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from allauth.usersessions.models import UserSession
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from calendar_app.accounts import sessions

FIREFOX = "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
)


def signed_in(user, agent: str, ip: str = "203.0.113.7") -> Client:
    """A browser that signed in through the log-in page (allauth records the session)."""
    browser = Client(HTTP_USER_AGENT=agent, REMOTE_ADDR=ip)
    response = browser.post("/accounts/login/", {"login": user.username, "password": "pw"})
    assert response.status_code == 302, response.content
    return browser


def test_device_names_come_from_the_user_agent():
    assert sessions.device_name(FIREFOX) == "Firefox on Ubuntu"
    assert sessions.device_name(IPHONE) == "Mobile Safari on iOS (iPhone)"
    assert sessions.device_name("") == "Unknown device"
    assert sessions.device_name("???") == "Unknown device"


def test_no_place_without_a_geoip_database(settings):
    settings.GEOIP_PATH = None
    sessions._geoip.cache_clear()
    assert sessions.place_of("203.0.113.7") == ""


def test_the_settings_page_lists_the_sessions_and_marks_this_one(team):
    laptop = signed_in(team.editor, FIREFOX, "203.0.113.7")
    signed_in(team.editor, IPHONE, "198.51.100.4")
    signed_in(team.manager, FIREFOX)  # someone else's: not listed
    body = laptop.get("/settings/").content.decode()
    assert "Where you are signed in" in body
    assert body.count('class="session-row') == 2
    assert 'Firefox on Ubuntu <span class="help">(this session)</span>' in body
    assert "Mobile Safari on iOS (iPhone)" in body and "198.51.100.4" in body
    assert "Sign out all other sessions" in body
    # No session key in the page: it would sign anyone in.
    for row in UserSession.objects.all():
        assert row.session_key not in body


def test_listing_costs_the_same_for_many_sessions(team, rf):
    browsers = [signed_in(team.editor, FIREFOX) for _ in range(2)]
    with CaptureQueriesContext(connection) as few:
        browsers[0].get("/settings/")
    browsers += [signed_in(team.editor, IPHONE) for _ in range(3)]
    with CaptureQueriesContext(connection) as many:
        browsers[0].get("/settings/")
    assert len(many.captured_queries) == len(few.captured_queries)


def test_signing_out_another_session(team):
    laptop = signed_in(team.editor, FIREFOX)
    phone = signed_in(team.editor, IPHONE)
    phone_row = UserSession.objects.get(user_agent=IPHONE)
    public_id = sessions.session_public_id(phone_row.session_key)
    response = laptop.post(f"/settings/sessions/{public_id}/end/", follow=True)
    assert "That session is signed out." in response.content.decode()
    assert phone.get("/").status_code == 302  # back to the log-in page
    assert laptop.get("/").status_code == 200


def test_signing_out_this_session_goes_to_the_log_in_page(team):
    laptop = signed_in(team.editor, FIREFOX)
    row = UserSession.objects.get()
    response = laptop.post(f"/settings/sessions/{sessions.session_public_id(row.session_key)}/end/")
    assert response.status_code == 302 and response.url.startswith("/accounts/login/")
    assert laptop.get("/").status_code == 302


def test_sign_out_all_others_keeps_this_one(team):
    laptop = signed_in(team.editor, FIREFOX)
    others = [signed_in(team.editor, IPHONE) for _ in range(2)]
    response = laptop.post("/settings/sessions/end-others/", follow=True)
    assert "2 other sessions signed out." in response.content.decode()
    assert [o.get("/").status_code for o in others] == [302, 302]
    assert laptop.get("/").status_code == 200
    assert UserSession.objects.filter(user=team.editor).count() == 1


def test_someone_elses_session_is_404(team):
    laptop = signed_in(team.editor, FIREFOX)
    other = signed_in(team.manager, IPHONE)
    row = UserSession.objects.get(user=team.manager)
    response = laptop.post(f"/settings/sessions/{sessions.session_public_id(row.session_key)}/end/")
    assert response.status_code == 404
    assert other.get("/").status_code == 200


def test_anonymous_and_wrong_method(client, team):
    assert client.post("/settings/sessions/end-others/").status_code == 302
    client.force_login(team.editor)
    assert client.get("/settings/sessions/end-others/").status_code == 405
    assert client.get("/settings/sessions/abc/end/").status_code == 405


def test_a_password_change_signs_out_the_other_sessions(team):
    laptop = signed_in(team.editor, FIREFOX)
    phone = signed_in(team.editor, IPHONE)
    new = "plum-harbour-87-lantern"
    response = laptop.post(
        "/accounts/password/change/",
        {"oldpassword": "pw", "password1": new, "password2": new},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert laptop.get("/").status_code == 200  # this one stays signed in
    assert phone.get("/").status_code == 302
    [row] = UserSession.objects.filter(user=team.editor)
    assert row.user_agent == FIREFOX
    assert laptop.get("/settings/").content.decode().count('class="session-row') == 1


@pytest.mark.parametrize("minutes, refreshed", [(2, False), (6, True)])
def test_last_seen_is_written_at_most_every_few_minutes(team, minutes, refreshed):
    laptop = signed_in(team.editor, FIREFOX)
    before = UserSession.objects.get().last_seen_at
    with time_machine.travel(timezone.now() + timedelta(minutes=minutes)):
        laptop.get("/settings/")
    after = UserSession.objects.get().last_seen_at
    assert (after > before) is refreshed


def test_a_configured_geoip_database_gives_the_place(monkeypatch):
    class FakeGeoIP:
        def city(self, ip):
            if ip.startswith("10."):
                raise ValueError("private")
            return {"city": "Berlin", "country_name": "Germany"}

    monkeypatch.setattr(sessions, "_geoip", lambda: FakeGeoIP())
    assert sessions.place_of("203.0.113.7") == "Berlin, Germany"
    assert sessions.place_of("10.0.0.1") == ""


def test_a_geoip_path_without_a_database_leaves_places_out(settings, tmp_path):
    settings.GEOIP_PATH = str(tmp_path / "missing.mmdb")
    sessions._geoip.cache_clear()
    try:
        assert sessions.place_of("203.0.113.7") == ""
    finally:
        sessions._geoip.cache_clear()
