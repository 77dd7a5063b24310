"""Hardening that applies to every page: caching of signed-in pages, the Permissions-Policy,
readable 405s, NUL characters in the address, and links whose address comes from Scripe."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from calendar_app.templatetags.links import external_link, is_http_url

pytestmark = pytest.mark.django_db

BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
NEVER_CACHE = "max-age=0, no-cache, no-store, must-revalidate, private"


def directives(response) -> set[str]:
    return {d.strip() for d in response.get("Cache-Control", "").split(",") if d.strip()}


# Cache-Control ---------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/", "/slots/", "/projects/", "/settings/"])
def test_a_signed_in_page_is_private_and_never_stored(client, team, url):
    client.force_login(team.editor)
    response = client.get(url)
    assert response.status_code == 200
    assert {"private", "no-store"} <= directives(response)


def test_a_signed_in_htmx_fragment_is_not_stored_either(client, team):
    client.force_login(team.editor)
    response = client.get("/slots/", headers={"HX-Request": "true"})
    assert {"private", "no-store"} <= directives(response)


def test_the_login_page_and_healthz_keep_their_own_cache_control(client):
    assert client.get("/accounts/login/")["Cache-Control"] == NEVER_CACHE
    assert client.get("/healthz")["Cache-Control"] == NEVER_CACHE


def test_anonymous_responses_get_no_cache_control_added(client):
    response = client.get("/")  # the redirect to the log-in page
    assert response.status_code == 302
    assert "Cache-Control" not in response
    assert "Cache-Control" not in client.get("/favicon.ico")


def test_static_files_keep_their_cache_control_when_signed_in(client, team, settings):
    settings.WHITENOISE_USE_FINDERS = True
    settings.WHITENOISE_AUTOREFRESH = True
    client.force_login(team.editor)
    response = client.get("/static/css/app.css")
    assert response.status_code == 200
    assert "no-store" not in directives(response) and "private" not in directives(response)


# Permissions-Policy ----------------------------------------------------------------------------


def test_every_response_denies_the_browser_features_we_do_not_use(client, team):
    anonymous = client.get("/accounts/login/")
    missing = client.get("/no-such-page/")
    client.force_login(team.editor)
    signed_in = client.get("/")
    for response in (anonymous, missing, signed_in):
        policy = response["Permissions-Policy"]
        items = [item.strip() for item in policy.split(",")]
        # A structured-field dictionary: feature=() for "allowed nowhere".
        assert all(re.fullmatch(r"[a-z][a-z-]*=\(\)", item) for item in items), policy
        assert {"camera=()", "microphone=()", "geolocation=()", "payment=()", "usb=()"} <= set(
            items
        )


# 405 -------------------------------------------------------------------------------------------


def test_a_browser_opening_a_post_only_address_gets_a_readable_405(client, team):
    slot = team.slot(datetime(2030, 1, 8, 9, tzinfo=UTC))
    client.force_login(team.editor)
    response = client.get(f"/slots/{slot.public_id}/generate/", headers={"Accept": BROWSER_ACCEPT})
    assert response.status_code == 405
    assert response["Allow"] == "POST"
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assert "This address cannot be opened" in html
    assert "accepts only POST, not GET" in html
    assert '<main id="main"' in html and 'href="/"' in html


def test_opening_the_logout_address_asks_before_logging_out(client, team):
    """A link (or a prefetch) to the address never logs anyone out: it asks, with a form."""
    client.force_login(team.editor)
    response = client.get("/accounts/logout/", headers={"Accept": BROWSER_ACCEPT})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Do you want to log out?" in html
    assert '<form method="post" action="/accounts/logout/">' in html
    assert is_still_signed_in(client)


def is_still_signed_in(client) -> bool:
    return client.get("/").status_code == 200


def test_htmx_and_other_clients_get_a_short_text_405(client, team):
    slot = team.slot(datetime(2030, 1, 8, 9, tzinfo=UTC))
    client.force_login(team.editor)
    for headers in ({"Accept": "*/*"}, {"Accept": BROWSER_ACCEPT, "HX-Request": "true"}):
        response = client.get(f"/slots/{slot.public_id}/generate/", headers=headers)
        assert response.status_code == 405
        assert response["Allow"] == "POST"
        assert response["Content-Type"].startswith("text/plain")
        assert response.content.decode() == "GET is not allowed here; use POST.\n"


def test_every_empty_405_gets_the_page_not_only_require_post(client):
    # The health check refuses POST with require_GET, an anonymous view with another decorator.
    response = client.post("/healthz", headers={"Accept": BROWSER_ACCEPT})
    assert response.status_code == 405 and response["Allow"] == "GET"
    assert "This address cannot be opened" in response.content.decode()


# NUL in the query string -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/slots/?q=%00",
        "/review/?project=%00",
        "/calendar/week/2026-01-01/?project=%00",
        "/?project=abc%00def",
        "/slots/?%00=1",
        "/projects/?page=1&q=ok&q=%00",
    ],
)
def test_a_nul_in_the_query_string_is_a_400_page_not_a_500(client, team, url):
    client.force_login(team.manager)
    response = client.get(url, headers={"Accept": BROWSER_ACCEPT})
    assert response.status_code == 400
    html = response.content.decode()
    assert "The address contains a character that cannot be used" in html
    assert '<main id="main"' in html


def test_a_nul_in_the_query_string_is_a_short_text_400_for_htmx(client, team):
    client.force_login(team.manager)
    response = client.get("/slots/?q=%00", headers={"HX-Request": "true"})
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/plain")
    assert "character that cannot be used" in response.content.decode()


def test_a_nul_is_refused_before_the_view_even_for_anonymous_visitors(client):
    # Without the check this would be the view's redirect to the log-in page.
    assert client.get("/slots/?q=%00").status_code == 400


def test_an_ordinary_query_string_still_works(client, team):
    client.force_login(team.manager)
    assert client.get("/slots/?q=launch").status_code == 200


# Links from Scripe -----------------------------------------------------------------------------


def test_a_javascript_profile_url_is_shown_as_text_not_as_a_link(client, team):
    team.project.linkedin_url = "javascript:alert(1)"
    team.project.save()
    team.paused.linkedin_url = "https://www.linkedin.com/in/lena"
    team.paused.save()
    client.force_login(team.editor)
    html = client.get("/projects/").content.decode()
    assert 'href="javascript:' not in html.lower()
    assert "javascript:alert(1)" in html
    assert '<a href="https://www.linkedin.com/in/lena" rel="noopener noreferrer"' in html


@pytest.mark.parametrize(
    "value",
    [
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        " javascript:alert(1)",
        "java\tscript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:msgbox(1)",
        "//evil.example/",
        "/relative/path",
        "https://",
        "https:///path",
        "http://exa mple.com/",
        "https://example.com/\x00",
        "",
        None,
    ],
)
def test_only_http_addresses_become_links(value):
    assert not is_http_url(value)
    assert "<a " not in external_link(value, "Profile")


@pytest.mark.parametrize(
    "value", ["https://www.linkedin.com/in/lena", "HTTP://example.com", "https://x.io/a?b=1&c=2"]
)
def test_http_addresses_become_escaped_links(value):
    assert is_http_url(value)
    link = external_link(value, "Profile")
    assert link.startswith('<a href="') and link.endswith(">Profile</a>")
    assert "&c=" not in link or "&amp;c=" in link


def test_a_non_http_value_is_escaped_as_text():
    assert external_link('javascript:"<b>"', "Profile") == "javascript:&quot;&lt;b&gt;&quot;"
