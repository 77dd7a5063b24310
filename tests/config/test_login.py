from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

pytestmark = pytest.mark.django_db


@pytest.fixture
def editor():
    return get_user_model().objects.create_user("erin", password="correct horse battery")


def test_app_pages_redirect_anonymous_users_to_login(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/"


def test_the_login_page_renders_with_csrf_and_htmx(client):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="login"' in html and 'name="password"' in html
    assert "csrfmiddlewaretoken" in html
    assert "htmx-2.min.js" in html
    assert 'hx-headers=\'{"X-CSRFToken": "' in html


def test_it_logs_in_and_lands_on_the_calendar(client, editor):
    response = client.post(
        "/accounts/login/", {"login": "erin", "password": "correct horse battery"}, follow=True
    )
    assert response.redirect_chain[-1] == ("/", 302)
    assert "Calendar" in response.content.decode()
    assert "Log out" in response.content.decode()


def test_a_wrong_password_shows_an_error_next_to_the_form(client, editor):
    response = client.post("/accounts/login/", {"login": "erin", "password": "nope"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "The username and/or password you specified are not correct." in html


def test_logout_needs_post_and_returns_to_login(client, editor):
    client.force_login(editor)
    assert "Do you want to log out?" in client.get("/accounts/logout/").content.decode()
    assert client.get("/").status_code == 200  # still signed in
    response = client.post("/accounts/logout/")
    assert response.status_code == 302 and response["Location"] == "/accounts/login/"


def test_every_response_carries_a_csp_without_inline_script(client):
    response = client.get("/accounts/login/")
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert response["X-Content-Type-Options"] == "nosniff"


def test_it_logs_in_with_the_email_address_too(client, editor):
    editor.email = "erin@example.com"
    editor.save()
    response = client.post(
        "/accounts/login/", {"login": "erin@example.com", "password": "correct horse battery"}
    )
    assert response.status_code == 302 and response["Location"] == "/"


def test_nobody_signs_themselves_up(client):
    """Accounts are made by the team; the sign-up address says so and makes none."""
    response = client.post(
        "/accounts/signup/",
        {
            "username": "stranger",
            "email": "s@example.com",
            "password1": "a long unusual passphrase",
            "password2": "a long unusual passphrase",
        },
    )
    assert response.status_code == 200
    assert "Sign Up Closed" in response.content.decode()
    assert not get_user_model().objects.filter(username="stranger").exists()


def test_the_admin_is_for_staff_only(client, editor):
    client.force_login(editor)
    assert client.get("/admin/").status_code == 302


def test_pages_show_the_product_name_not_the_host(client):
    html = client.get("/accounts/login/").content.decode()
    assert '<a class="brand" href="/">Scripe Calendar</a>' in html


def test_favicon_ico_points_at_the_svg_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"].endswith("img/favicon.svg")
