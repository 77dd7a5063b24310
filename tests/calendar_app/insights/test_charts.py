"""The burn-down's geometry: where the forecast line goes."""

from __future__ import annotations

from datetime import timedelta

import pytest

from calendar_app.pipeline.spend import spend_today
from tests.calendar_app.history import (
    NOW,
    at,
    job,
    with_plan,
)


@pytest.fixture(autouse=True)
def _now(time_machine):
    time_machine.move_to(NOW, tick=False)


def burn(team, spent_generations: int, *, plan="SOLO", meta=None):
    from calendar_app.insights.charts import burn_down

    connection = with_plan(team, plan)
    if meta:
        connection.note_spend_cap(meta)
        team.workspace.refresh_from_db()
    slot = team.slot(at(6, 20))
    for n in range(spent_generations):  # spread over the last hour (11:00-12:00)
        job(slot, n + 1, accepted=at(6, 10, 11) + timedelta(seconds=3600 * n / spent_generations))
    spend = spend_today([team.workspace])[team.workspace.pk]
    return spend, burn_down(spend)


def last_point(points: str) -> tuple[float, float]:
    x, y = points.split()[-1].split(",")
    return float(x), float(y)


def test_the_burn_down_draws_the_forecast_to_where_the_cap_is_reached(team):
    # 60 ¢ in the last hour of a 500 ¢ cap: 440 ¢ left at 60 an hour, reached at 19:20.
    spend, svg = burn(team, 12)
    frame = svg["frame"]
    hour = frame.plot_width / 24
    assert spend.forecast_at == at(6, 10, 19, 20)
    x, y = last_point(svg["forecast"])
    assert x == pytest.approx(frame.LEFT + (19 + 1 / 3) * hour, abs=0.1)
    assert y == frame.baseline  # nothing left of the cap
    assert last_point(svg["actual"]) == (svg["now_x"], frame.y(440))


def test_a_pace_that_misses_the_cap_ends_at_midnight_with_what_is_left(team):
    # 10 ¢ in the last hour: 12 hours to midnight at 10 an hour leaves 490 - 120 = 370 ¢.
    spend, svg = burn(team, 2)
    assert spend.forecast_at is None
    frame = svg["frame"]
    assert last_point(svg["forecast"]) == (
        round(frame.LEFT + frame.plot_width, 1),
        frame.y(370),
    )


def test_a_reached_cap_draws_the_forecast_down_at_now(team):
    meta = {"bucketDate": "2026-06-10", "spentCents": 500, "capCents": 500}
    spend, svg = burn(team, 0, meta=meta)
    assert spend.forecast_at == NOW
    assert last_point(svg["forecast"]) == (svg["now_x"], svg["frame"].baseline)
