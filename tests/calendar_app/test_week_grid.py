"""The week as an hourly grid (#15): cards at their hour, posting-schedule times as faint
empty slots, configurable hours, a drop on an hour that sets the time, and an empty hour
that opens the form at its time."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

# Thursday 15 October 2026, 12:00 in Berlin.
NOW = datetime(2026, 10, 15, 10, 0, tzinfo=UTC)
WEEK = "/calendar/week/2026-10-19/"


@pytest.fixture(autouse=True)
def _now(time_machine):
    time_machine.move_to(NOW, tick=False)


def cell(html: str, day: str, hour: int) -> str:
    return html.split(f'data-date="{day}" data-hour="{hour}"')[1].split('class="hour-cell')[0]


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


def test_an_hour_opens_the_form_at_its_time(client, team):
    client.force_login(team.editor)
    form = client.get("/slots/new/?date=2026-10-21&time=15:00").content.decode()
    assert '<option value="15:00" selected>' in form
    form = client.get("/slots/new/?date=2026-10-21&time=15:10").content.decode()
    assert '<option value="09:00" selected>' in form  # off the grid: the default
