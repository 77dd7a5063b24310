"""The week as an hourly grid (#15): cards at their hour, posting-schedule times as faint
empty slots, configurable hours, a drop on an hour that sets the time, and an empty hour
that opens the form at its time."""

from __future__ import annotations

import json
from datetime import UTC, datetime, time

import pytest

from calendar_app.models import PlannedSlot, ScheduleTime

# Thursday 15 October 2026, 12:00 in Berlin.
NOW = datetime(2026, 10, 15, 10, 0, tzinfo=UTC)
WEEK = "/calendar/week/2026-10-19/"


@pytest.fixture(autouse=True)
def _now(time_machine):
    time_machine.move_to(NOW, tick=False)


def cell(html: str, day: str, hour: int) -> str:
    return html.split(f'data-date="{day}" data-hour="{hour}"')[1].split('class="hour-cell')[0]


def test_cards_sit_in_their_local_hour(client, team):
    team.slot(datetime(2026, 10, 20, 12, 15, tzinfo=UTC), text="Lunch post")  # 14:15 Berlin
    client.force_login(team.editor)
    html = client.get(WEEK).content.decode()
    assert "Lunch post" in cell(html, "2026-10-20", 14)
    assert "Lunch post" not in cell(html, "2026-10-20", 13)


def test_free_schedule_times_show_as_faint_slots_and_taken_ones_do_not(client, team):
    ScheduleTime.objects.create(project=team.project, weekday=1, time=time(8, 30))  # Tue
    ScheduleTime.objects.create(project=team.project, weekday=3, time=time(8, 30))  # Thu
    team.slot(datetime(2026, 10, 22, 6, 30, tzinfo=UTC))  # Thu 08:30 Berlin: taken
    client.force_login(team.editor)
    html = client.get(WEEK).content.decode()
    tuesday = cell(html, "2026-10-20", 8)
    assert 'class="schedule-mark' in tuesday and "08:30 · Lena Fischer" in tuesday
    assert "date=2026-10-20&amp;time=08:30" in tuesday
    assert 'class="schedule-mark' not in cell(html, "2026-10-22", 8)


def test_the_day_start_and_end_are_configurable_and_kept(client, team):
    team.slot(datetime(2026, 10, 20, 4, 0, tzinfo=UTC), text="Early bird")  # 06:00 Berlin
    client.force_login(team.editor)
    html = client.get(f"{WEEK}?start=8&end=12").content.decode()
    assert 'data-hour="7"' not in html and 'data-hour="12"' not in html
    assert "Early bird" in cell(html, "2026-10-20", 8)  # earlier posts sit in the first row
    html = client.get(WEEK).content.decode()  # the session keeps the hours
    assert 'data-hour="8"' in html and 'data-hour="12"' not in html
    html = client.get(f"{WEEK}?start=9&end=3").content.decode()  # nonsense is ignored
    assert 'data-hour="8"' in html


def test_a_drop_on_an_hour_sets_the_time(client, team):
    slot = team.slot(datetime(2026, 10, 20, 7, 0, tzinfo=UTC))
    client.force_login(team.editor)
    response = client.post(
        f"/slots/{slot.public_id}/move/",
        {"date": "2026-10-21", "time": "15:45"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 204
    assert "Wed 21 Oct, 15:45" in json.loads(response["HX-Trigger"])["toast"]["message"]
    slot.refresh_from_db()
    assert slot.scheduled_for == datetime(2026, 10, 21, 13, 45, tzinfo=UTC)


def test_a_drop_on_a_bad_hour_is_refused_and_nothing_moves(client, team):
    slot = team.slot(datetime(2026, 10, 20, 7, 0, tzinfo=UTC))
    client.force_login(team.editor)
    for bad, status, words in (("25:00", 422, "Drop the card on an hour"), ("09:10", 409, "15")):
        response = client.post(
            f"/slots/{slot.public_id}/move/",
            {"date": "2026-10-21", "time": bad},
            headers={"HX-Request": "true"},
        )
        assert response.status_code == status and words in response.content.decode()
    slot.refresh_from_db()
    assert slot.scheduled_for == datetime(2026, 10, 20, 7, 0, tzinfo=UTC)


def test_an_empty_hour_opens_the_form_at_its_time(client, team):
    client.force_login(team.editor)
    html = client.get(WEEK).content.decode()
    assert 'hx-get="/slots/new/?date=2026-10-21&amp;time=15:00"' in html
    form = client.get("/slots/new/?date=2026-10-21&time=15:00").content.decode()
    assert '<option value="15:00" selected>' in form


def test_hours_already_begun_today_offer_no_plus(client, team):
    # Now is Thursday 15 October, 12:00 in Berlin.
    client.force_login(team.editor)
    html = client.get("/calendar/week/2026-10-15/").content.decode()
    for clock in ("09:00", "11:00", "12:00"):
        assert f"/slots/new/?date=2026-10-15&amp;time={clock}" not in html
    assert 'hx-get="/slots/new/?date=2026-10-15&amp;time=13:00"' in html
    assert 'hx-get="/slots/new/?date=2026-10-14&amp;time=20:00"' not in html  # yesterday
    assert 'hx-get="/slots/new/?date=2026-10-16&amp;time=08:00"' in html  # tomorrow


def test_the_grid_costs_the_same_for_one_post_or_forty(client, team, django_assert_num_queries):
    ScheduleTime.objects.create(project=team.project, weekday=1, time=time(8, 30))
    client.force_login(team.editor)
    team.slot(datetime(2026, 10, 20, 9, 0, tzinfo=UTC))
    client.get(WEEK)
    with django_assert_num_queries(9) as first:
        client.get(WEEK)
    for n in range(40):
        team.slot(datetime(2026, 10, 19, 6, 0, tzinfo=UTC).replace(hour=6 + n % 12, day=19 + n % 7))
    with django_assert_num_queries(len(first.captured_queries)):
        html = client.get(WEEK).content.decode()
    assert html.count('class="slot-card') == 41
    assert PlannedSlot.objects.count() == 41


def test_an_hour_opens_the_form_at_its_time(client, team):
    client.force_login(team.editor)
    form = client.get("/slots/new/?date=2026-10-21&time=15:00").content.decode()
    assert '<option value="15:00" selected>' in form
    form = client.get("/slots/new/?date=2026-10-21&time=15:10").content.decode()
    assert '<option value="09:00" selected>' in form  # off the grid: the default
