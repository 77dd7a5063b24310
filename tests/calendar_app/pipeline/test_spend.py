"""Today's Scripe spend against the daily cap, and when this pace reaches it (#18)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from calendar_app.pipeline.spend import Spend, forecast_cap_at, spend_today
from tests.calendar_app.history import (
    NOW,
    at,
    job,
    with_plan,
)


@pytest.fixture(autouse=True)
def _now(time_machine):
    time_machine.move_to(NOW, tick=False)


def test_todays_spend_counts_generations_scripe_accepted_today(team):
    with_plan(team)
    slot = team.slot(at(6, 20))
    job(slot, 1, accepted=at(6, 10, 1, 30))
    job(slot, 2, accepted=at(6, 10, 1, 45))
    job(slot, 3, accepted=at(6, 10, 9, 10))
    job(slot, 4, status="QUEUED", finished=False, submitted_at=at(6, 10, 11, 50))
    job(slot, 5, accepted=at(6, 9, 23, 59))  # yesterday (UTC)
    job(slot, 6, code="spend_cap_exceeded", status="", submitted_at=at(6, 10, 10))  # a 402
    foreign = team.slot(at(6, 20), project=team.foreign_project)
    job(foreign, accepted=at(6, 10, 2))

    spend = spend_today([team.workspace])[team.workspace.pk]

    assert spend.generations == 4 and spend.estimated_cents == 20
    assert spend.cap_cents == 2000 and spend.left_cents == 1980 and spend.percent == 1.0
    assert spend.hourly == [0, 2, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0]
    assert spend.cumulative()[-1] == 20
    assert spend.forecast_at is None and spend.level == "ok"
    assert spend.sentence == "At this pace the cap is not reached today."
    assert spend.table().rows[1] == ["01:00", 2, 10, 10]


def test_scripes_402_figures_win_and_the_cap_reads_as_reached(team):
    connection = with_plan(team)
    connection.note_spend_cap({"bucketDate": "2026-06-10", "spentCents": 1990, "capCents": 2000})
    team.workspace.refresh_from_db()
    spend = spend_today([team.workspace])[team.workspace.pk]
    assert spend.spent_cents == 1990 and spend.cap_cents == 2000
    assert spend.reached_until == at(6, 11, 0) and spend.level == "reached"
    assert "00:00 UTC" in spend.sentence


def test_the_forecast_is_where_a_pace_reaches_the_cap():
    def forecast(spent, cap, now, cents_an_hour):
        return forecast_cap_at(
            spent_cents=spent, cap_cents=cap, now=now, cents_per_second=cents_an_hour / 3600
        )

    # 800 ¢ more at 100 ¢ an hour is 8 hours.
    assert forecast(1200, 2000, at(6, 10, 12), 100) == at(6, 10, 20)
    # Reaching it exactly at midnight is not today.
    assert forecast(1200, 2000, at(6, 10, 16), 100) is None
    assert forecast(2000, 2000, at(6, 10, 9), 0) == at(6, 10, 9)  # reached: now
    assert forecast(100, 2000, at(6, 10, 9), 0) is None  # no pace
    assert forecast(10, None, at(6, 10, 9), 100) is None  # no cap


def test_this_pace_is_the_last_hour_or_two(team):
    with_plan(team, "SOLO")  # 500 ¢
    slot = team.slot(at(6, 20))
    for n in range(12):  # 60 ¢ since 11:00, an hour ago: 60 ¢ an hour
        job(slot, n + 1, accepted=at(6, 10, 11) + timedelta(minutes=5 * n))
    for n in range(40):  # and a burst of 200 ¢ early in the morning
        job(slot, 100 + n, accepted=at(6, 10, 2) + timedelta(minutes=n))
    spend = spend_today([team.workspace])[team.workspace.pk]
    assert spend.pace_since == at(6, 10, 11)
    assert spend.cents_per_second * 3600 == pytest.approx(60)
    # 240 ¢ left at 60 an hour: 4 hours.
    assert spend.sentence == "At this pace the cap is reached at 16:00 UTC."
    assert spend.level == "warn"


def test_a_mornings_burst_is_not_this_pace(team):
    with_plan(team, "SOLO")  # 500 ¢
    slot = team.slot(at(6, 20))
    for n in range(80):  # 400 ¢ between 02:00 and 03:20, nothing since
        job(slot, n + 1, accepted=at(6, 10, 2) + timedelta(minutes=n))
    spend = spend_today([team.workspace])[team.workspace.pk]
    # The day's average (400 ¢ in 12 hours) would reach the cap at 15:00.
    assert spend.cents_per_second == 0
    assert spend.sentence == "At this pace the cap is not reached today."
    assert spend.level == "warn"  # 80% is spent all the same


def test_one_generation_a_minute_ago_is_not_a_pace_of_one_a_minute(time_machine, team):
    time_machine.move_to(at(6, 10, 0, 10), tick=False)
    with_plan(team, "SOLO")
    job(team.slot(at(6, 20)), accepted=at(6, 10, 0, 9))
    spend = spend_today([team.workspace])[team.workspace.pk]
    # 5 ¢ over at least 30 minutes: 10 ¢ an hour, 495 ¢ left takes past midnight.
    assert spend.cents_per_second * 3600 == pytest.approx(10)


def test_between_one_and_two_the_pace_still_counts_from_midnight(time_machine, team):
    time_machine.move_to(at(6, 10, 1, 30), tick=False)
    with_plan(team, "SOLO")
    slot = team.slot(at(6, 20))
    for n in range(9):  # 45 ¢ in the first 90 minutes: 30 ¢ an hour
        job(slot, n + 1, accepted=at(6, 10, 0, 5) + timedelta(minutes=10 * n))
    spend = spend_today([team.workspace])[team.workspace.pk]
    assert spend.pace_since == at(6, 10, 0)
    assert spend.cents_per_second * 3600 == pytest.approx(30)


@pytest.mark.parametrize(
    ("spent", "cap", "short"),
    [
        (0, 2000, "0%"),
        (5, 2000, "<1%"),  # 0.25 %: some spend never reads 0%
        (10, 2000, "<1%"),  # 0.5 %, which round() made 0
        (45, 2000, "2%"),
        (50, 2000, "3%"),  # 2.5 %: the nearer whole, not round()'s even one
        (1995, 2000, "99%"),  # not reached: never 100%
        (2000, 2000, "100%"),
        (45, None, "45 ¢"),  # no cap known: what was spent, not a share of nothing
        (0, None, "0 ¢"),
    ],
)
def test_the_gauge_says_a_share_only_of_a_known_cap_and_never_0_for_some_spend(spent, cap, short):
    spend = Spend(NOW, spent // 5, [spent // 5], cap_cents=cap)
    assert spend.short == short
    assert spend.percent == (None if cap is None else 100 * spent / cap)


def test_a_cap_scripe_says_is_reached_reads_100(team):
    connection = with_plan(team)
    connection.note_spend_cap({"bucketDate": "2026-06-10", "spentCents": 1990, "capCents": 2000})
    team.workspace.refresh_from_db()
    assert spend_today([team.workspace])[team.workspace.pk].short == "100%"
