"""In the app: the bell (loaded after the page, then kept current by the live poll), the list,
mark read, email choices on the settings page, watching a slot, unsubscribing from an email
link without logging in."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from calendar_app.models import Notification, NotificationPreference, SlotWatch
from calendar_app.notifications import selectors
from calendar_app.notifications import services as notifications
from calendar_app.planning.live import live_token

HTMX = {"HX-Request": "true"}


def tell(user, team, slot=None, text="Ready for review: Lena Fischer, Mon 07 Dec 10:00", **fields):
    return Notification.objects.create(
        user=user,
        workspace=team.workspace,
        slot=slot,
        kind=fields.pop("kind", "review_ready"),
        text=text,
        **fields,
    )


@pytest.fixture
def slot(team):
    """A slot planned a minute ago: live polls from now on do not see it as a change."""
    slot = team.slot(timezone.now() + timedelta(days=3))
    a_minute_ago = timezone.now() - timedelta(minutes=1)
    type(slot).objects.filter(pk=slot.pk).update(updated_at=a_minute_ago)
    return slot


# the bell -----------------------------------------------------------------------------------


def test_pages_show_a_bell_that_loads_its_count_after_the_page(client, team):
    client.force_login(team.editor)
    html = client.get("/").content.decode()
    assert 'id="bell"' in html and 'hx-get="/notifications/bell/"' in html
    assert 'data-bell-count=""' in html and "data-live-since" in html  # the page polls


def test_the_bell_says_how_many_are_unread(client, team, django_assert_num_queries):
    tell(team.editor, team)
    tell(team.editor, team, read_at=timezone.now())
    tell(team.manager, team)
    client.force_login(team.editor)
    # session, user, memberships and profile (the middleware's time zone), the count
    with django_assert_num_queries(5):
        html = client.get("/notifications/bell/", headers=HTMX).content.decode()
    assert 'data-bell-count="1"' in html and '<span class="count">1</span>' in html
    assert "1 unread" in html


def test_the_bell_wants_a_login(client):
    response = client.get("/notifications/bell/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


# the live poll keeps the bell current --------------------------------------------------------


def live(client, **params):
    return client.get("/slots/live/", {"since": str(live_token()), **params}, headers=HTMX)


def test_the_live_poll_brings_a_new_bell_when_the_count_moved(client, team):
    client.force_login(team.editor)
    tell(team.editor, team)
    response = live(client, bell="0")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="bell"' in html and 'data-bell-count="1"' in html and 'hx-swap-oob="true"' in html


def test_the_live_poll_is_204_when_neither_slots_nor_the_count_moved(client, team):
    client.force_login(team.editor)
    tell(team.editor, team)
    response = live(client, bell="1")
    assert response.status_code == 204 and response.content == b""


def test_the_live_poll_adds_the_bell_beside_changed_cards(client, team, slot):
    client.force_login(team.editor)
    since = live_token()
    type(slot).objects.filter(pk=slot.pk).update(updated_at=timezone.now())
    tell(team.editor, team)
    day = timezone.localtime(slot.scheduled_for, team.workspace.zone).date().isoformat()
    response = client.get(
        "/slots/live/",
        {"since": since, "view": "calendar", "from": day, "to": day, "bell": "0"},
        headers=HTMX,
    )
    html = response.content.decode()
    assert 'class="slot-card' in html and 'data-bell-count="1"' in html


def test_the_live_poll_with_a_bell_costs_one_query_more(
    client, team, slot, django_assert_num_queries
):
    client.force_login(team.editor)
    # session, user, memberships, profile, the unread count, the slots written since
    with django_assert_num_queries(6):
        assert live(client, bell="0").status_code == 204
    for _ in range(20):
        tell(team.editor, team)
    with django_assert_num_queries(6):
        assert live(client, bell="20").status_code == 204


def test_a_bell_count_that_is_not_a_number_is_ignored(client, team):
    client.force_login(team.editor)
    tell(team.editor, team)
    assert live(client, bell="many").status_code == 204


# the list and mark read --------------------------------------------------------------------


def test_the_list_shows_mine_newest_first_with_links_to_the_slots(client, team, slot):
    tell(team.editor, team, slot=slot, text="Rejected: Lena Fischer")
    tell(team.editor, team, text="Scripe refuses the key of Acme", kind="key_invalid")
    tell(team.manager, team, text="Someone else's")
    client.force_login(team.editor)
    html = client.get("/notifications/").content.decode()
    assert html.index("Scripe refuses the key") < html.index("Rejected: Lena Fischer")
    assert f'href="/slots/{slot.public_id}/"' in html
    assert "Someone else" not in html
    assert "Mark all read" in html


def test_the_list_as_a_fragment_for_htmx(client, team):
    tell(team.editor, team)
    client.force_login(team.editor)
    html = client.get("/notifications/", headers=HTMX).content.decode()
    assert html.lstrip().startswith('<section id="notification-list"')
    assert "<html" not in html


def test_the_list_wants_a_login(client):
    assert client.get("/notifications/").status_code == 302


def test_mark_read_with_htmx_swaps_the_item_and_the_bell(client, team):
    row = tell(team.editor, team)
    tell(team.editor, team)
    client.force_login(team.editor)
    response = client.post(f"/notifications/{row.public_id}/read/", headers=HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert f'id="notification-{row.public_id}"' in html and "notification-unread" not in html
    assert 'data-bell-count="1"' in html and 'hx-swap-oob="true"' in html
    row.refresh_from_db()
    assert row.read_at is not None


def test_mark_read_without_javascript_redirects_to_the_list(client, team):
    row = tell(team.editor, team)
    client.force_login(team.editor)
    response = client.post(f"/notifications/{row.public_id}/read/")
    assert response.status_code == 302 and response["Location"] == "/notifications/"
    row.refresh_from_db()
    assert row.read_at is not None


def test_someone_elses_notification_is_404_and_stays_unread(client, team):
    row = tell(team.manager, team)
    client.force_login(team.editor)
    assert client.post(f"/notifications/{row.public_id}/read/").status_code == 404
    row.refresh_from_db()
    assert row.read_at is None


def test_mark_read_is_post_only(client, team):
    row = tell(team.editor, team)
    client.force_login(team.editor)
    assert client.get(f"/notifications/{row.public_id}/read/").status_code == 405
    assert client.get("/notifications/read-all/").status_code == 405


def test_mark_all_read(client, team):
    for _ in range(3):
        tell(team.editor, team)
    other = tell(team.manager, team)
    client.force_login(team.editor)
    response = client.post("/notifications/read-all/", headers=HTMX)
    html = response.content.decode()
    assert "notification-unread" not in html and 'data-bell-count="0"' in html
    assert selectors.unread_count(team.editor) == 0
    other.refresh_from_db()
    assert other.read_at is None
    assert client.post("/notifications/read-all/").status_code == 302


# email choices ----------------------------------------------------------------------------------


def test_the_settings_page_shows_each_kinds_email_choice(client, team):
    NotificationPreference.objects.create(user=team.editor, kind="failed", email="off")
    client.force_login(team.editor)
    html = client.get("/settings/").content.decode()
    assert 'action="/notifications/preferences/"' in html
    assert "A generation failed" in html
    assert '<option value="off" selected>' in html


def test_saving_email_choices(client, team):
    client.force_login(team.editor)
    choices = notifications.preferences_for(team.editor) | {"failed": "digest", "rejected": "off"}
    response = client.post("/notifications/preferences/", choices)
    assert response.status_code == 302 and response["Location"] == "/settings/"
    saved = notifications.preferences_for(team.editor)
    assert (saved["failed"], saved["rejected"], saved["review_ready"]) == (
        "digest",
        "off",
        "immediate",
    )


def test_an_unknown_email_choice_saves_nothing(client, team):
    client.force_login(team.editor)
    choices = notifications.preferences_for(team.editor) | {"failed": "carrier-pigeon"}
    response = client.post("/notifications/preferences/", choices, follow=True)
    assert "Choose one of the offered options" in response.content.decode()
    assert not NotificationPreference.objects.exists()


def test_turning_a_kind_off_drops_what_waits_to_be_sent(team):
    waiting = tell(team.editor, team, kind="failed", email="pending")
    digest = tell(team.editor, team, kind="failed", email="digest")
    kept = tell(team.editor, team, kind="rejected", email="pending")
    notifications.preferences_update(user=team.editor, choices={"failed": "off"})
    states = {n.pk: n.email for n in Notification.objects.all()}
    assert states == {waiting.pk: "none", digest.pk: "none", kept.pk: "pending"}


# watching --------------------------------------------------------------------------------------


def test_the_slot_page_loads_its_watch_button_after_the_page(client, team, slot):
    client.force_login(team.manager)
    html = client.get(f"/slots/{slot.public_id}/").content.decode()
    assert f'hx-get="/slots/{slot.public_id}/watch/"' in html


def test_watch_and_unwatch_with_htmx(client, team, slot):
    client.force_login(team.manager)
    html = client.get(f"/slots/{slot.public_id}/watch/", headers=HTMX).content.decode()
    assert ">Watch</button>" in html
    html = client.post(
        f"/slots/{slot.public_id}/watch/", {"watch": "on"}, headers=HTMX
    ).content.decode()
    assert ">Unwatch</button>" in html
    assert SlotWatch.objects.filter(slot=slot, user=team.manager).exists()
    client.post(f"/slots/{slot.public_id}/watch/", {"watch": "off"}, headers=HTMX)
    assert not SlotWatch.objects.exists()


def test_watch_without_javascript(client, team, slot):
    client.force_login(team.manager)
    page = client.get(f"/slots/{slot.public_id}/watch/").content.decode()
    assert "<html" in page and ">Watch</button>" in page
    response = client.post(f"/slots/{slot.public_id}/watch/", {"watch": "on"})
    assert response.status_code == 302 and response["Location"] == f"/slots/{slot.public_id}/"
    assert SlotWatch.objects.filter(slot=slot, user=team.manager).exists()


def test_the_creator_is_told_they_hear_anyway(client, team, slot):
    client.force_login(team.editor)
    html = client.get(f"/slots/{slot.public_id}/watch/", headers=HTMX).content.decode()
    assert "You planned this post" in html and "<button" not in html


def test_watching_an_outsiders_slot_is_404(client, team, slot):
    client.force_login(team.outsider)
    assert client.get(f"/slots/{slot.public_id}/watch/").status_code == 404
    assert client.post(f"/slots/{slot.public_id}/watch/", {"watch": "on"}).status_code == 404
    assert not SlotWatch.objects.exists()


def test_watch_with_a_bad_value_is_422_and_changes_nothing(client, team, slot):
    client.force_login(team.manager)
    response = client.post(f"/slots/{slot.public_id}/watch/", {"watch": "maybe"}, headers=HTMX)
    assert response.status_code == 422
    assert not SlotWatch.objects.exists()


def test_watch_wants_a_login_and_get_or_post(client, team, slot):
    assert client.post(f"/slots/{slot.public_id}/watch/", {"watch": "on"}).status_code == 302
    client.force_login(team.manager)
    assert client.put(f"/slots/{slot.public_id}/watch/").status_code == 405


def test_commenting_through_the_page_watches_the_slot(client, team, slot):
    client.force_login(team.manager)
    client.post(f"/slots/{slot.public_id}/comments/", {"text": "Nice."}, headers=HTMX)
    assert SlotWatch.objects.filter(slot=slot, user=team.manager).exists()


# unsubscribe -------------------------------------------------------------------------------------


def test_unsubscribe_asks_first_and_a_get_changes_nothing(client, team):
    token = notifications.unsubscribe_token(team.editor, "failed")
    response = client.get(f"/notifications/unsubscribe/{token}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Stop emails about failed generations" in html and "Stop all emails" in html
    assert notifications.preferences_for(team.editor)["failed"] == "immediate"


def test_unsubscribe_post_turns_that_kind_off_without_a_login(client, team):
    token = notifications.unsubscribe_token(team.editor, "failed")
    response = client.post(f"/notifications/unsubscribe/{token}/", {"scope": "kind"})
    assert response.status_code == 200
    assert "no more emails about failed generations." in response.content.decode()
    prefs = notifications.preferences_for(team.editor)
    assert prefs["failed"] == "off" and prefs["rejected"] == "immediate"


def test_unsubscribe_from_everything(client, team):
    token = notifications.unsubscribe_token(team.editor, "failed")
    client.post(f"/notifications/unsubscribe/{token}/", {"scope": "all"})
    assert set(notifications.preferences_for(team.editor).values()) == {"off"}


def test_a_mail_clients_one_click_unsubscribe_needs_no_csrf_token(team):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    token = notifications.unsubscribe_token(team.editor, "rejected")
    response = client.post(
        f"/notifications/unsubscribe/{token}/", {"List-Unsubscribe": "One-Click"}
    )
    assert response.status_code == 200
    assert notifications.preferences_for(team.editor)["rejected"] == "off"


@pytest.mark.parametrize("token", ["nonsense", "eyJ1IjoxLCJrIjoiIn0:1abc:forged"])
def test_a_bad_unsubscribe_token_is_400_and_changes_nothing(client, team, token):
    assert client.get(f"/notifications/unsubscribe/{token}/").status_code == 400
    assert client.post(f"/notifications/unsubscribe/{token}/", {"scope": "all"}).status_code == 400
    assert not NotificationPreference.objects.exists()


def test_a_token_for_another_purpose_is_refused(client, team):
    from django.core import signing

    token = signing.dumps({"u": team.editor.pk, "k": ""})  # no salt: not an unsubscribe token
    assert client.get(f"/notifications/unsubscribe/{token}/").status_code == 400


def test_the_link_of_a_deleted_account_says_it_no_longer_applies(client, team):
    token = notifications.unsubscribe_token(team.editor, "failed")
    team.editor.delete()  # after the email went out
    for response in (
        client.get(f"/notifications/unsubscribe/{token}/"),
        client.post(f"/notifications/unsubscribe/{token}/", {"scope": "all"}),
    ):
        assert response.status_code == 410
        html = response.content.decode()
        assert "This link no longer applies" in html and "has been deleted" in html
        assert "<form" not in html.split("<main", 1)[-1]
    assert not NotificationPreference.objects.exists()
