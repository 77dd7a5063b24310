"""The personal iCal feed: turned on, read without a login, scoped to the user's workspaces,
stable UIDs and real time zones, and a revoked or replaced address answering 404."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from icalendar import Calendar

from calendar_app.models import CalendarFeed, GenerationJob, Membership, PlannedSlot, Role

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _now(time_machine):
    time_machine.move_to(NOW, tick=False)


def turn_on(client, user, action="enable") -> str:
    client.force_login(user)
    response = client.post("/settings/feed/", {"action": action})
    # Post-redirect-get: the address is shown once on the page it lands on.
    assert (response.status_code, response["Location"]) == (302, "/settings/#calendar-feed")
    response = client.get(response["Location"])
    match = re.search(
        r'value="(http://testserver/feeds/[A-Za-z0-9_-]{43}\.ics)"', response.content.decode()
    )
    assert match, "the page shows the new address"
    client.logout()
    return match.group(1).removeprefix("http://testserver")


def events(client, url) -> dict[str, object]:
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    calendar = Calendar.from_ical(response.content)
    return {str(e["uid"]): e for e in calendar.walk("VEVENT")}


@pytest.fixture
def plan(team):
    draft = team.slot(datetime(2027, 1, 12, 8, 0, tzinfo=UTC), text="Idea headline\nMore words")
    review = team.slot(datetime(2027, 1, 13, 16, 30, tzinfo=UTC), status="in_review")
    GenerationJob.objects.create(
        slot=review,
        idempotency_key=uuid.uuid4().hex,
        post_id="post_42",
        post_title="A title",
        post_content="Line one of the post\nLine two\nLine three\nLine four\nLine five",
    )
    return {
        "draft": draft,
        "review": review,
        "foreign": team.slot(NOW + timedelta(days=3), project=team.foreign_project),
        "deleted": team.slot(NOW + timedelta(days=4)),
        "long_ago": team.slot(NOW - timedelta(days=61)),
        "recent": team.slot(NOW - timedelta(days=59), status="published"),
        "too_far": team.slot(NOW + timedelta(days=31 * 19)),
    }


def uid(slot) -> str:
    return f"{slot.public_id}@scripe-calendar"


def test_the_feed_has_one_event_per_live_slot_of_the_users_workspaces(client, team, plan):
    PlannedSlot.objects.filter(pk=plan["deleted"].pk).update(deleted_at=NOW)
    url = turn_on(client, team.editor)
    found = events(client, url)
    assert set(found) == {uid(plan["draft"]), uid(plan["review"]), uid(plan["recent"])}


def test_an_event_says_project_status_and_the_first_lines(client, team, plan):
    url = turn_on(client, team.editor)
    found = events(client, url)
    draft, review = found[uid(plan["draft"])], found[uid(plan["review"])]
    assert str(draft["summary"]) == "Lena Fischer: Idea headline (Draft)"
    assert str(draft["status"]) == "TENTATIVE"
    assert "Note:\nIdea headline\nMore words" in str(draft["description"])
    assert str(review["summary"]) == "Lena Fischer: Line one of the post (Ready for review)"
    description = str(review["description"])
    assert "Project: Lena Fischer\nStatus: Ready for review" in description
    assert "Line four\n…" in description and "Line five" not in description
    assert str(review["url"]) == f"http://testserver/slots/{plan['review'].public_id}/"
    assert str(found[uid(plan["recent"])]["status"]) == "CONFIRMED"


def test_times_are_in_the_workspaces_zone_and_mean_the_same_moment(client, team, plan):
    url = turn_on(client, team.editor)
    response = client.get(url)
    calendar = Calendar.from_ical(response.content)
    assert [str(tz["tzid"]) for tz in calendar.walk("VTIMEZONE")] == ["Europe/Berlin"]
    assert b"DTSTART;TZID=Europe/Berlin:20270112T090000" in response.content
    (draft,) = [e for e in calendar.walk("VEVENT") if str(e["uid"]) == uid(plan["draft"])]
    start = draft["dtstart"].dt
    assert start == plan["draft"].scheduled_for
    assert draft["dtend"].dt - start == timedelta(minutes=30)


def test_uids_are_stable_across_reads_and_changes(client, team, plan):
    url = turn_on(client, team.editor)
    first = events(client, url)
    PlannedSlot.objects.filter(pk=plan["draft"].pk).update(
        scheduled_for=datetime(2027, 1, 20, 8, 0, tzinfo=UTC)
    )
    second = events(client, url)
    assert set(first) == set(second)
    assert second[uid(plan["draft"])]["dtstart"].dt == datetime(2027, 1, 20, 8, 0, tzinfo=UTC)


def test_only_a_hash_of_the_token_is_stored(client, team):
    url = turn_on(client, team.editor)
    token = url.removeprefix("/feeds/").removesuffix(".ics")
    feed = CalendarFeed.objects.get(user=team.editor)
    assert token not in feed.token_hash and len(feed.token_hash) == 64
    client.force_login(team.editor)
    page = client.get("/settings/").content.decode()
    assert "Your feed is on" in page and token not in page


def test_a_revoked_feed_answers_404(client, team, plan):
    url = turn_on(client, team.editor)
    client.force_login(team.editor)
    response = client.post("/settings/feed/", {"action": "revoke"}, follow=True)
    assert "Calendar feed turned off" in response.content.decode()
    client.logout()
    assert client.get(url).status_code == 404
    assert not CalendarFeed.objects.exists()


def test_a_new_address_replaces_the_old_one(client, team, plan):
    old = turn_on(client, team.editor)
    new = turn_on(client, team.editor, action="regenerate")
    assert old != new
    assert client.get(old).status_code == 404
    assert client.get(new).status_code == 200


def test_unknown_tokens_and_inactive_users_are_404(client, team):
    assert client.get("/feeds/not-a-token.ics").status_code == 404
    url = turn_on(client, team.editor)
    team.editor.is_active = False
    team.editor.save()
    assert client.get(url).status_code == 404


def test_the_feed_follows_membership(client, team, plan):
    url = turn_on(client, team.outsider)
    assert set(events(client, url)) == {uid(plan["foreign"])}
    Membership.objects.create(user=team.outsider, workspace=team.workspace, role=Role.EDITOR)
    assert uid(plan["draft"]) in events(client, url)
    Membership.objects.filter(user=team.outsider).delete()
    assert events(client, url) == {}


def test_the_feed_is_read_only(client, team):
    url = turn_on(client, team.editor)
    assert client.post(url).status_code == 405


def test_settings_need_a_login_and_a_post(client, team):
    assert client.post("/settings/feed/", {"action": "enable"})["Location"].startswith(
        "/accounts/login/"
    )
    client.force_login(team.editor)
    assert client.get("/settings/feed/").status_code == 405
    response = client.post("/settings/feed/", {"action": "explode"}, follow=True)
    assert "Choose what to do with the calendar feed." in response.content.decode()
    assert not CalendarFeed.objects.exists()


def test_the_settings_page_offers_to_turn_it_on(client, team):
    client.force_login(team.editor)
    page = client.get("/settings/").content.decode()
    assert "Your feed is off." in page and 'value="enable"' in page
