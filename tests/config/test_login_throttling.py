"""Log-in throttling with django-axes: five failures for one username from one address within
15 minutes pause log-ins for that pair, and 30 from one address, whatever the usernames, pause
every log-in from it (password spraying); the right password does not help until the wait is
over or an admin unlocks it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import get_user_model
from django.core.management import call_command

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 10, 15, 10, 0, tzinfo=UTC)
PASSWORD = "correct horse battery"
LOCKED = "Log-in paused"
WRONG = "The username and/or password you specified are not correct."


@pytest.fixture(autouse=True)
def _now(time_machine):
    time_machine.move_to(NOW, tick=False)


@pytest.fixture
def erin():
    return get_user_model().objects.create_user("erin", password=PASSWORD)


def log_in(client, password, username="erin", address="203.0.113.7"):
    return client.post(
        "/accounts/login/",
        {"login": username, "password": password},
        REMOTE_ADDR=address,
    )


def fail(client, times, **kwargs):
    for _ in range(times):
        response = log_in(client, "wrong", **kwargs)
    return response


def is_signed_in(client) -> bool:
    return client.get("/").status_code == 200


def test_four_failures_still_show_the_ordinary_form_error(client, erin):
    response = fail(client, 4)
    assert response.status_code == 200
    assert WRONG in response.content.decode()
    assert LOCKED not in response.content.decode()


def test_the_fifth_failure_pauses_log_ins_with_a_page_that_says_why_and_until_when(client, erin):
    response = fail(client, 5)
    assert response.status_code == 429
    html = response.content.decode()
    assert LOCKED in html
    assert "5 failed log-ins for <strong>erin</strong>" in html
    assert "Try again in 15 minutes" in html
    assert "An administrator of this site can unlock it sooner" in html
    assert '<main id="main"' in html  # our page, with the site around it
    assert 'href="/accounts/login/"' in html


def test_a_paused_log_in_refuses_even_the_right_password(client, erin):
    fail(client, 5)
    response = log_in(client, PASSWORD)
    assert response.status_code == 429
    assert LOCKED in response.content.decode()
    assert not is_signed_in(client)


def test_the_pause_is_for_that_username_from_that_address_only(client, erin):
    get_user_model().objects.create_user("max", password=PASSWORD)
    fail(client, 5)
    assert log_in(client, PASSWORD).status_code == 429
    # A stranger elsewhere cannot lock erin out, and one person's typos do not lock the office.
    assert log_in(client, PASSWORD, address="198.51.100.9").status_code == 302
    client.logout()
    assert log_in(client, PASSWORD, username="max").status_code == 302


def test_axes_reset_lets_the_user_in_again(client, erin):
    fail(client, 5)
    assert log_in(client, PASSWORD).status_code == 429
    call_command("axes_reset", verbosity=0)
    response = log_in(client, PASSWORD)
    assert response.status_code == 302 and response["Location"] == "/"
    assert is_signed_in(client)


def test_axes_reset_username_unlocks_just_that_user(client, erin):
    fail(client, 5)
    assert log_in(client, PASSWORD).status_code == 429
    call_command("axes_reset_username", "erin", verbosity=0)
    assert log_in(client, PASSWORD).status_code == 302


def test_an_admin_unlocks_by_deleting_the_attempt_in_the_admin(client, erin):
    fail(client, 5)
    assert log_in(client, PASSWORD).status_code == 429
    admin = get_user_model().objects.create_superuser("root", password="pw")
    staff = client.__class__()
    staff.force_login(admin)
    listing = staff.get("/admin/axes/accessattempt/")
    assert listing.status_code == 200 and "erin" in listing.content.decode()
    attempt = AccessAttempt.objects.get(username="erin")
    deleted = staff.post(f"/admin/axes/accessattempt/{attempt.pk}/delete/", {"post": "yes"})
    assert deleted.status_code == 302

    assert log_in(client, PASSWORD).status_code == 302


def test_the_pause_lifts_after_15_minutes(client, erin, time_machine):
    fail(client, 5)
    time_machine.move_to(NOW + timedelta(minutes=14), tick=False)
    assert log_in(client, PASSWORD).status_code == 429
    # That try started the wait again, as the page says.
    time_machine.move_to(NOW + timedelta(minutes=14 + 16), tick=False)
    assert log_in(client, PASSWORD).status_code == 302


def test_a_successful_log_in_forgets_earlier_failures(client, erin):
    fail(client, 4)
    assert log_in(client, PASSWORD).status_code == 302
    client.logout()
    response = fail(client, 4)
    assert response.status_code == 200 and LOCKED not in response.content.decode()


def test_the_admin_log_in_is_throttled_too(client, erin):
    for _ in range(5):
        response = client.post(
            "/admin/login/?next=/admin/", {"username": "erin", "password": "wrong"}
        )
    assert response.status_code == 429
    assert LOCKED in response.content.decode()


def test_a_nul_in_the_username_is_a_form_error_not_a_server_error(client, erin):
    response = log_in(client, "wrong", username="er\x00in")
    assert response.status_code == 200
    assert "Null characters are not allowed" in response.content.decode()


# Password spraying: one address, many usernames -------------------------------------------------
SPRAYER = "192.0.2.66"
BY_ADDRESS = "for different usernames"


def spray(client, usernames, address=SPRAYER) -> list:
    """One wrong password for each username, from one address: the answers."""
    return [log_in(client, "wrong", username=name, address=address) for name in usernames]


def test_failures_for_many_usernames_from_one_address_pause_every_log_in_from_it(client, erin):
    answers = spray(client, [f"user{i}" for i in range(60)])
    codes = [answer.status_code for answer in answers]
    assert codes[:29] == [200] * 29  # the ordinary form error, each a different username
    assert codes[29:] == [429] * 31  # from the 30th on, paused
    html = answers[-1].content.decode()
    assert LOCKED in html
    assert f"failed log-ins from this network, {BY_ADDRESS}" in html
    assert "Try again in 15 minutes" in html
    # A real user's right password from there is refused too, with the same page.
    response = log_in(client, PASSWORD, address=SPRAYER)
    assert response.status_code == 429
    assert BY_ADDRESS in response.content.decode()
    assert not is_signed_in(client)


def test_another_address_is_not_paused_by_a_spray(client, erin):
    spray(client, [f"user{i}" for i in range(60)])
    assert log_in(client, PASSWORD, address="198.51.100.9").status_code == 302
    assert is_signed_in(client)


def test_the_username_lock_still_comes_first_and_says_whose(client, erin):
    response = fail(client, 5, address=SPRAYER)
    assert response.status_code == 429
    html = response.content.decode()
    assert "5 failed log-ins for <strong>erin</strong>" in html and BY_ADDRESS not in html
    # Other usernames from that address still get in, until the address's own limit.
    get_user_model().objects.create_user("max", password=PASSWORD)
    assert log_in(client, PASSWORD, username="max", address=SPRAYER).status_code == 302


def test_a_successful_log_in_does_not_forget_the_addresss_failures(client, erin):
    """Else a sprayer with one account of their own would log in now and then to go on."""
    spray(client, [f"user{i}" for i in range(29)])
    assert log_in(client, PASSWORD, address=SPRAYER).status_code == 302
    client.logout()
    assert spray(client, ["user29"])[0].status_code == 429


def test_the_address_limit_is_a_setting(client, erin, settings):
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 8
    codes = [answer.status_code for answer in spray(client, [f"user{i}" for i in range(9)])]
    assert codes == [200] * 7 + [429] * 2


def test_the_address_pause_lifts_after_15_minutes_without_failures(client, erin, time_machine):
    spray(client, [f"user{i}" for i in range(30)])
    time_machine.move_to(NOW + timedelta(minutes=14), tick=False)
    assert log_in(client, PASSWORD, address=SPRAYER).status_code == 429
    time_machine.move_to(NOW + timedelta(minutes=14 + 16), tick=False)
    assert log_in(client, PASSWORD, address=SPRAYER).status_code == 302


def test_axes_reset_ip_unlocks_the_address(client, erin):
    spray(client, [f"user{i}" for i in range(30)])
    call_command("axes_reset_ip", SPRAYER, verbosity=0)
    assert log_in(client, PASSWORD, address=SPRAYER).status_code == 302


# Behind a proxy ----------------------------------------------------------------------------------
NGINX = "172.18.0.5"


def through_nginx(client, password, client_address, claimed=""):
    """A log-in as nginx forwards it: the client's (possibly forged) X-Forwarded-For, then
    the address nginx saw, appended."""
    forwarded = f"{claimed}, {client_address}" if claimed else client_address
    return client.post(
        "/accounts/login/",
        {"login": "erin", "password": password},
        REMOTE_ADDR=NGINX,
        HTTP_X_FORWARDED_FOR=forwarded,
    )


def test_behind_a_proxy_one_clients_failures_do_not_lock_the_user_out_elsewhere(
    client, erin, settings
):
    settings.TRUSTED_PROXY_COUNT = 1
    for _ in range(5):
        through_nginx(client, "wrong", "198.51.100.9")
    assert through_nginx(client, PASSWORD, "198.51.100.9").status_code == 429
    # Erin, from her own address, behind the same nginx, still gets in.
    assert through_nginx(client, PASSWORD, "203.0.113.7").status_code == 302


def test_a_forged_forwarded_for_header_does_not_escape_the_lock(client, erin, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    for i in range(5):
        through_nginx(client, "wrong", "198.51.100.9", claimed=f"10.0.0.{i}")
    assert through_nginx(client, PASSWORD, "198.51.100.9", claimed="10.0.0.99").status_code == 429


def test_without_a_trusted_proxy_the_header_is_ignored(client, erin, settings):
    settings.TRUSTED_PROXY_COUNT = 0
    for i in range(5):
        through_nginx(client, "wrong", f"198.51.100.{i}")
    # Every try came from the same connection (nginx's), whatever the header said.
    assert AccessAttempt.objects.get().ip_address == NGINX
