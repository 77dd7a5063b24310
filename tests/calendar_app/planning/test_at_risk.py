"""At risk: the usual times from history, and posts with less time left than writing and
review take (#18)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from calendar_app.insights import selectors as insights
from calendar_app.planning.at_risk import DEFAULT_GENERATION, DEFAULT_REVIEW, usual_times
from tests.calendar_app.history import (
    NOW,
    learned_history,
)


@pytest.fixture(autouse=True)
def _now(time_machine):
    time_machine.move_to(NOW, tick=False)


def scope(team, project=None) -> insights.Scope:
    # The insights page's lane shows what the rule finds, soonest first.
    return insights.Scope(team.workspace, team.workspace.zone, project)


def test_usual_times_are_medians_from_history(team):
    learned_history(team)
    usual = usual_times([team.workspace])[team.workspace.pk]
    assert usual.generation == timedelta(minutes=15) and usual.generation_known
    assert usual.review == timedelta(hours=3) and usual.review_known


def test_a_few_samples_are_not_usual_yet(team):
    # One quick review (9 minutes) must not give every draft 9 minutes of review.
    learned_history(team, generations=(1, 2, 3, 4), reviews=(0.15,))
    usual = usual_times([team.workspace])[team.workspace.pk]
    assert usual.generation == DEFAULT_GENERATION and not usual.generation_known
    assert usual.review == DEFAULT_REVIEW and not usual.review_known
    in_review = team.slot(NOW + timedelta(hours=1), status="in_review")
    assert insights.at_risk_slots(scope(team))[0] == [in_review]


def test_at_risk_is_less_time_left_than_writing_and_review_take(team):
    learned_history(team)  # 15 min + 3 h = 3 h 15 min for a draft, 3 h for a review
    hour = timedelta(hours=1)
    risky = {
        team.slot(NOW + 3 * hour, status="draft"),
        team.slot(NOW + hour, status="failed"),
        team.slot(NOW + 2 * hour, status="in_review"),
        team.slot(NOW + 3 * hour + timedelta(minutes=10), status="generating"),
    }
    team.slot(NOW + 4 * hour, status="draft")
    team.slot(NOW + 4 * hour, status="in_review")
    team.slot(NOW + hour, status="scheduled")
    team.slot(NOW - hour, status="draft")
    team.slot(NOW + hour, project=team.foreign_project)

    slots, _ = insights.at_risk_slots(scope(team))

    assert set(slots) == risky
    assert [s.scheduled_for for s in slots] == sorted(s.scheduled_for for s in risky)
    assert slots[0].time_left == hour


def test_without_history_the_defaults_stand_in_and_no_review_means_no_review_time(team):
    hour = timedelta(hours=1)
    soon = team.slot(NOW + 4 * hour, status="draft")  # < 10 min + 4 h
    team.slot(NOW + 5 * hour, status="draft")
    assert insights.at_risk_slots(scope(team))[0] == [soon]

    team.workspace.review_required = False
    team.workspace.save()
    close = team.slot(NOW + timedelta(minutes=8), status="draft")
    team.slot(NOW + timedelta(minutes=8), status="in_review")
    assert insights.at_risk_slots(scope(team))[0] == [close]
