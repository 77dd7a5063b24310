"""Password reset by email and a change of one's own email address confirmed from the new
address (#28, allauth's pages); accounts made before allauth get their address from migration
0030, and until then log in and reset by the user's own email field."""

from __future__ import annotations

import re

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core import mail

pytestmark = pytest.mark.django_db


@pytest.fixture
def erin():
    user = get_user_model().objects.create_user(
        "erin", email="erin@example.com", password="correct horse battery"
    )
    EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=True)
    return user


def link_in(message) -> str:
    return re.search(r"http://testserver(/accounts/\S+/)", message.body).group(1)


def test_a_forgotten_password_is_reset_from_the_emailed_link(client, erin):
    response = client.post("/accounts/password/reset/", {"email": "Erin@example.com"})
    assert response["Location"] == "/accounts/password/reset/done/"
    (message,) = mail.outbox
    assert message.to == ["erin@example.com"]
    form = client.get(link_in(message), follow=True)
    assert form.status_code == 200 and 'name="password1"' in form.content.decode()
    set_url = form.redirect_chain[-1][0]
    weak = client.post(set_url, {"password1": "short", "password2": "short"})
    assert "This password is too short" in weak.content.decode()
    new = "a new long phrase"
    done = client.post(set_url, {"password1": new, "password2": new})
    assert done.status_code == 302
    erin.refresh_from_db()
    assert erin.check_password(new)
    # The link works once.
    assert "Bad Token" in client.get(link_in(message), follow=True).content.decode()


def test_a_reset_for_an_unknown_address_sends_nothing(client, erin):
    client.post("/accounts/password/reset/", {"email": "nobody@example.com"})
    assert all("erin" not in m.body for m in mail.outbox)
    assert all(m.to != ["erin@example.com"] for m in mail.outbox)


def test_an_account_without_an_allauth_address_still_resets_and_logs_in(client):
    """An account made in the admin after the migration, with its email field only."""
    get_user_model().objects.create_user("max", email="max@example.com", password="pw-pw-pw-1")
    assert (
        client.post("/accounts/login/", {"login": "max@example.com", "password": "pw-pw-pw-1"})[
            "Location"
        ]
        == "/"
    )
    client.logout()
    client.post("/accounts/password/reset/", {"email": "max@example.com"})
    assert [m.to for m in mail.outbox] == [["max@example.com"]]


def test_a_new_email_address_counts_once_confirmed_from_it(client, erin):
    client.force_login(erin)
    page = client.get("/accounts/email/")
    if page.status_code == 302:  # allauth asks for the password first
        client.post(page["Location"], {"password": "correct horse battery"})
    response = client.post("/accounts/email/", {"action_add": "", "email": "erin@new.example"})
    assert response.status_code == 302
    erin.refresh_from_db()
    assert erin.email == "erin@example.com"  # not yet
    confirmation = next(m for m in mail.outbox if m.to == ["erin@new.example"])
    confirm_url = link_in(confirmation)
    assert client.get(confirm_url).status_code == 200
    client.post(confirm_url)
    erin.refresh_from_db()
    assert erin.email == "erin@new.example"
    assert list(EmailAddress.objects.filter(user=erin).values_list("email", flat=True)) == [
        "erin@new.example"
    ]


def test_a_bad_email_address_is_an_error_next_to_the_field(client, erin):
    client.force_login(erin)
    page = client.get("/accounts/email/")
    if page.status_code == 302:
        client.post(page["Location"], {"password": "correct horse battery"})
    response = client.post("/accounts/email/", {"action_add": "", "email": "not an address"})
    assert response.status_code == 200
    assert "Enter a valid email address." in response.content.decode()
    assert not mail.outbox


def test_migration_0030_gives_existing_accounts_their_address(erin):
    from importlib import import_module

    from django.apps import apps

    migration = import_module("calendar_app.migrations.0030_two_factor")
    User = get_user_model()
    max_ = User.objects.create_user("max", email="Max@Example.com")
    User.objects.create_user("twin1", email="twin@example.com")
    User.objects.create_user("twin2", email="TWIN@example.com")
    User.objects.create_user("nomail")
    migration.add_email_addresses(apps, None)
    rows = set(EmailAddress.objects.values_list("user__username", "email", "primary", "verified"))
    assert rows == {
        ("erin", "erin@example.com", True, True),  # kept as it was
        ("max", "max@example.com", True, True),
    }
    assert max_.emailaddress_set.get().email == "max@example.com"


def test_a_mail_server_that_is_down_is_said_so_not_a_server_error(client, erin, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 1, 2
    response = client.post("/accounts/password/reset/", {"email": "erin@example.com"}, follow=True)
    assert response.status_code == 200
    assert "The email could not be sent just now" in response.content.decode()


def test_account_emails_greet_with_the_products_name_not_the_servers_host(client, erin, settings):
    settings.PRODUCT_NAME = "Scripe Calendar"
    client.post("/accounts/password/reset/", {"email": "erin@example.com"})
    (message,) = mail.outbox
    assert message.body.startswith("Hello from Scripe Calendar!")
    assert "Thank you for using Scripe Calendar!" in message.body
    assert "Hello from testserver" not in message.body


def test_allauths_pages_make_the_submit_the_primary_button_and_cancel_a_plain_one(client, erin):
    # A submit without tags came out plain and allauth's Cancel (tagged "primary") blue.
    client.post("/accounts/password/reset/", {"email": "erin@example.com"})
    (message,) = mail.outbox
    form = client.get(link_in(message), follow=True).content.decode()
    submit = re.search(r'<button class="([^"]*)"[^>]*name="action"', form)
    assert submit and "button-primary" in submit.group(1)
    cancel = re.search(r'<button class="([^"]*)" form="logout-from-stage"', form)
    assert cancel is None or "button-primary" not in cancel.group(1)
    client.force_login(erin)
    page = client.get("/accounts/email/").content.decode()
    assert re.search(r'<button class="button button-primary" name="action_add"', page)
