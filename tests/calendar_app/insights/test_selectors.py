"""Insights (#18): every aggregation against hand-computed numbers. Now is Wednesday 10 June
2026, 12:00 UTC; the team's workspace is in Europe/Berlin (UTC+2), so its weeks start on
Mondays at 22:00 UTC."""

from __future__ import annotations

import zoneinfo
from datetime import date, datetime, time, timedelta

import pytest

from calendar_app.insights import selectors as insights
from calendar_app.models import PlannedSlot, SlotEvent
from tests.calendar_app.history import LAST_WEEK, NOW, THIS_WEEK, at, event, job


@pytest.fixture(autouse=True)
def _now(time_machine):
    time_machine.move_to(NOW, tick=False)


def scope(team, project=None) -> insights.Scope:
    return insights.Scope(team.workspace, team.workspace.zone, project)


# Posts per week by status ---------------------------------------------------------------------


def test_posts_per_week_are_counted_by_local_week_and_status_group(team):
    for _ in range(2):
        team.slot(at(6, 9, 8), status="draft")
    team.slot(at(6, 11, 8), status="published")
    team.slot(at(6, 10, 15), status="in_review")
    team.slot(at(6, 7, 22, 30), status="scheduled")  # Monday 00:30 in Berlin: this week
    team.slot(at(6, 7, 21, 30), status="failed")  # Sunday 23:30 in Berlin: last week
    team.slot(at(6, 2), status="rejected")
    team.slot(at(4, 12, 12), status="draft")  # before the first of the 17 weeks
    gone = team.slot(at(6, 9), status="draft")
    PlannedSlot.objects.filter(pk=gone.pk).update(deleted_at=NOW)
    team.slot(at(6, 9), project=team.foreign_project)
    team.slot(at(6, 9), project=team.paused, status="queued")

    chart = insights.posts_by_week(scope(team), today=NOW.date())

    assert chart.weeks[0] == date(2026, 4, 13) and chart.weeks[-1] == date(2026, 8, 3)
    assert len(chart.weeks) == 17 and chart.this_week == THIS_WEEK
    this_week = {key: chart.value(THIS_WEEK, key) for key, _ in chart.series}
    assert this_week == {
        "planned": 2,
        "writing": 1,
        "review": 1,
        "scheduled": 1,
        "published": 1,
        "failed": 0,
        "dropped": 0,
    }
    assert chart.value(LAST_WEEK, "failed") == 1 and chart.value(LAST_WEEK, "dropped") == 1
    assert chart.total(LAST_WEEK) == 2
    assert sum(chart.total(w) for w in chart.weeks) == 8
    table = chart.table()
    assert table.headers[0] == "Week of" and table.headers[-1] == "Total"
    assert ["2026-06-08", 2, 1, 1, 1, 1, 0, 0, 6] in table.rows

    only_lena = insights.posts_by_week(scope(team, team.project), today=NOW.date())
    assert only_lena.value(THIS_WEEK, "writing") == 0 and only_lena.total(THIS_WEEK) == 5


def test_a_label_narrows_every_chart_through_the_scope(team):
    from calendar_app.models import Label

    campaign = Label.objects.create(workspace=team.workspace, name="Launch")
    tagged = team.slot(at(6, 9), status="published")
    campaign.slots.add(tagged)
    team.slot(at(6, 9), status="published")
    job(tagged, accepted=at(6, 9, 8), completed=at(6, 9, 8, 0, 30))
    job(team.slot(at(6, 9)), accepted=at(6, 9, 8), completed=at(6, 9, 8, 0, 50))

    labelled = insights.Scope(team.workspace, team.workspace.zone, label=campaign)
    assert insights.posts_by_week(labelled, today=NOW.date()).total(THIS_WEEK) == 1
    assert insights.posts_by_week(scope(team), today=NOW.date()).total(THIS_WEEK) == 3
    outcomes = insights.generation_outcomes(labelled, today=NOW.date())
    assert outcomes.overall.count == 1 and outcomes.overall.median == 30.0


def test_every_status_belongs_to_one_group():
    from calendar_app.models import SlotStatus

    grouped = [s for _, _, statuses in insights.STATUS_GROUPS for s in statuses]
    assert sorted(grouped) == sorted(SlotStatus.values)


# Generation outcomes ----------------------------------------------------------------------------


def test_generation_outcomes_by_week_and_the_time_scripe_took(team):
    written = team.slot(at(6, 20))
    for attempt, seconds in enumerate([10, 20, 30, 40], start=1):
        start = at(6, 9, 10)
        job(written, attempt, accepted=start, completed=start + timedelta(seconds=seconds))
    other = team.slot(at(6, 21))
    job(other, 1, code="content_policy", status="FAILED", completed=at(6, 9, 11))
    job(other, 2, code="spend_cap_exceeded", status="", submitted_at=at(6, 2))
    job(other, 3, status="CANCELLED", completed=at(6, 3))
    job(other, 4, accepted=at(6, 2, 9), completed=at(6, 2, 9, 1))  # 60 s, last week
    job(other, 5, status="RUNNING", finished=False, accepted=at(6, 9))
    job(team.slot(at(6, 20), project=team.foreign_project), accepted=at(6, 9), completed=at(6, 9))

    outcomes = insights.generation_outcomes(scope(team), today=NOW.date())
    stacks = outcomes.stacks

    assert len(stacks.weeks) == 9 and stacks.weeks[-1] == THIS_WEEK
    assert [key for key, _ in stacks.series] == [
        "written",
        "failed:content_policy",
        "failed:spend_cap_exceeded",
        "cancelled",
    ]
    assert stacks.value(THIS_WEEK, "written") == 4
    assert stacks.value(THIS_WEEK, "failed:content_policy") == 1
    assert stacks.value(LAST_WEEK, "failed:spend_cap_exceeded") == 1
    assert stacks.value(LAST_WEEK, "cancelled") == 1
    assert stacks.value(LAST_WEEK, "written") == 1
    this_week = outcomes.durations[THIS_WEEK]
    assert (this_week.count, this_week.median, this_week.p90) == (4, 25.0, pytest.approx(37.0))
    assert outcomes.durations[LAST_WEEK].median == 60.0
    # 10, 20, 30, 40, 60: the median is 30; p90 sits 0.6 of the way from 40 to 60.
    overall = outcomes.overall
    assert (overall.count, overall.median, overall.p90) == (5, 30.0, pytest.approx(52.0))
    row = outcomes.table().rows[-1]
    assert row == ["2026-06-08", 4, 1, 0, 0, 5, 25.0, 37.0, 4]


def test_failure_reasons_beyond_the_top_four_are_other(team):
    slot = team.slot(at(6, 20))
    codes = ["a", "a", "b", "b", "c", "c", "d", "d", "e"]
    for attempt, code in enumerate(codes, start=1):
        job(slot, attempt, code=code, status="FAILED", completed=at(6, 9))
    stacks = insights.generation_outcomes(scope(team), today=NOW.date()).stacks
    keys = [key for key, _ in stacks.series]
    failures = ["failed:a", "failed:b", "failed:c", "failed:d", "failed:other"]
    assert keys == ["written", *failures, "cancelled"]
    assert stacks.value(THIS_WEEK, "failed:other") == 1


# Review turnaround ------------------------------------------------------------------------------


def review_history(team, start: datetime) -> None:
    """Six drafts: four decided (1 h, 2 h, 6 h by the manager; 4 h by the admin), one that
    missed its time, and a retry after a failure (not a review decision)."""
    hour = timedelta(hours=1)
    s1, s2, s3, s4, s5, s6 = (team.slot(at(7, 1)) for _ in range(6))
    event(s1, "in_review", start)
    event(s1, "approving", start + 2 * hour, team.manager)
    event(s1, "scheduled", start + 2 * hour + timedelta(seconds=1), team.manager)
    event(s2, "in_review", start)
    event(s2, "rejected", start + 4 * hour, team.admin)
    event(s3, "in_review", start)
    event(s3, "", start + 5 * hour, team.manager, kind=SlotEvent.Kind.COMMENT)
    event(s3, "queued", start + 6 * hour, team.manager)  # changes requested
    event(s4, "in_review", start)
    event(s4, "missed", start + 10 * hour)
    event(s5, "failed", start)
    event(s5, "queued", start + hour, team.editor)
    event(s6, "in_review", start)
    event(s6, "approving", start + hour, team.manager)


def test_review_turnaround_per_manager_and_overall(team):
    review_history(team, at(6, 8, 9))
    old = team.slot(at(7, 1))
    event(old, "in_review", at(3, 1))
    event(old, "approving", at(3, 5), team.manager)  # decided before the 8 weeks
    foreign = team.slot(at(7, 1), project=team.foreign_project)
    event(foreign, "in_review", at(6, 8))
    event(foreign, "approving", at(6, 9), team.outsider)

    result = insights.review_turnaround(scope(team), today=NOW.date())

    hour = 3600
    max_, ada = result.managers
    assert (max_.who, max_.decisions) == ("Max", 3)
    assert max_.median == pytest.approx(2 * hour) and max_.p90 == pytest.approx(5.2 * hour)
    assert (ada.who, ada.decisions, ada.median) == ("ada", 1, pytest.approx(4 * hour))
    overall = result.overall
    assert overall.decisions == 4
    assert overall.median == pytest.approx(3 * hour) and overall.p90 == pytest.approx(5.4 * hour)
    assert result.table().rows[-1] == ["Everyone", 4, 3.0, 5.4]


# Planned vs published ---------------------------------------------------------------------------


def test_planned_and_published_per_project_and_week(team):
    team.slot(at(6, 2), status="published")
    team.slot(at(6, 3), status="published")
    team.slot(at(6, 4), status="rejected")
    team.slot(at(6, 9), status="draft")
    team.slot(at(6, 2), project=team.paused, status="published")
    team.slot(at(6, 2), project=team.foreign_project, status="published")

    chart = insights.planned_vs_published(scope(team), today=NOW.date())

    assert [p.name for p in chart.projects] == ["Lena Fischer", "Paused"]
    lena, paused = team.project.pk, team.paused.pk
    assert chart.planned == {(lena, LAST_WEEK): 3, (lena, THIS_WEEK): 1, (paused, LAST_WEEK): 1}
    assert chart.published == {(lena, LAST_WEEK): 2, (lena, THIS_WEEK): 0, (paused, LAST_WEEK): 1}
    table = chart.table()
    assert len(table.rows) == 2 * 17
    assert ["Lena Fischer", "2026-06-01", "", 3, 2] in table.rows  # no posting schedule


def test_planned_posts_are_held_against_the_posting_schedule_of_active_projects(team):
    from calendar_app.planning.queue import schedule_set

    # Mondays and Thursdays at 09:00 in Berlin; the paused project's schedule does not count.
    schedule_set(project=team.project, schedule=[(0, time(9)), (3, time(9))])
    schedule_set(project=team.paused, schedule=[(0, time(9))])
    team.slot(at(6, 8, 7), status="published")  # Monday 09:00 in Berlin, this week

    chart = insights.planned_vs_published(scope(team), today=NOW.date())

    lena, paused = team.project.pk, team.paused.pk
    assert all(chart.scheduled[(lena, week)] == 2 for week in chart.weeks)
    assert not any(key[0] == paused for key in chart.scheduled)
    assert chart.peak() == 2
    rows = chart.table().rows
    assert ["Lena Fischer", "2026-06-08", 2, 1, 1] in rows
    assert ["Lena Fischer", "2026-06-15", 2, 0, 0] in rows
    assert ["Paused", "2026-06-08", "", 0, 0] in rows


def test_a_schedule_time_falls_in_the_viewers_week(team):
    from calendar_app.planning.queue import schedule_set

    # Monday 00:30 in Berlin is Sunday 22:30 UTC: for a viewer in UTC, the week before.
    schedule_set(project=team.project, schedule=[(0, time(0, 30))])
    chart = insights.planned_vs_published(
        insights.Scope(team.workspace, zoneinfo.ZoneInfo("UTC")), today=NOW.date()
    )
    lena = team.project.pk
    # The first week's Monday 00:30 Berlin is before the window; the week after the last's
    # is inside it, on its Sunday.
    assert [chart.scheduled[(lena, week)] for week in chart.weeks] == [1] * 17
    first = insights.planned_vs_published(scope(team), today=NOW.date())
    assert [first.scheduled[(lena, week)] for week in first.weeks] == [1] * 17


# The schedule with a label, and across a change of the clocks -------------------------------


def test_with_a_label_no_schedule_is_held_against_its_posts(team):
    from calendar_app.models import Label
    from calendar_app.planning.queue import schedule_set

    schedule_set(project=team.project, schedule=[(0, time(9))])
    launch = Label.objects.create(workspace=team.workspace, name="Launch")
    chart = insights.planned_vs_published(
        insights.Scope(team.workspace, team.workspace.zone, label=launch), today=NOW.date()
    )
    assert chart.scheduled == {}
    assert ["Lena Fischer", "2026-06-08", "", 0, 0] in chart.table().rows


def test_a_schedule_time_the_clocks_skip_is_no_posting_time_that_week(team):
    from calendar_app.planning.queue import schedule_set

    # Sundays at 02:30 in Berlin; on 29 March 2026 the clocks go from 02:00 to 03:00.
    schedule_set(project=team.project, schedule=[(6, time(2, 30))])
    chart = insights.planned_vs_published(scope(team), today=date(2026, 4, 1))
    lena = team.project.pk
    assert chart.scheduled[(lena, date(2026, 3, 23))] == 0
    assert chart.scheduled[(lena, date(2026, 3, 16))] == 1
    assert chart.scheduled[(lena, date(2026, 3, 30))] == 1
