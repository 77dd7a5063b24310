"""Insights (#18): every aggregation against hand-computed numbers, the spend forecast, the
at-risk rule and auto-generation. Now is Wednesday 10 June 2026, 12:00 UTC; the team's
workspace is in Europe/Berlin (UTC+2), so its weeks start on Mondays at 22:00 UTC."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.utils import timezone

from calendar_app.core.aggregates import percentile
from calendar_app.insights import selectors as insights
from calendar_app.models import GenerationJob, PlannedSlot, SlotEvent
from calendar_app.pipeline import auto_generation, dispatch, spend
from calendar_app.pipeline.auto_generation import auto_generations_sweep
from calendar_app.pipeline.spend import forecast_cap_at, spend_today
from calendar_app.planning.at_risk import DEFAULT_GENERATION, DEFAULT_REVIEW, usual_times
from scripe_integration.sandbox import DEFAULT_TEST_KEY
from scripe_integration.services import connection_for

NOW = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)
THIS_WEEK = date(2026, 6, 8)
LAST_WEEK = date(2026, 6, 1)


@pytest.fixture(autouse=True)
def _now(time_machine):
    time_machine.move_to(NOW, tick=False)


def scope(team, project=None) -> insights.Scope:
    return insights.Scope(team.workspace, team.workspace.zone, project)


def at(month, day, hour=12, minute=0, second=0) -> datetime:
    return datetime(2026, month, day, hour, minute, second, tzinfo=UTC)


def job(slot, attempt=1, *, code="", status="DONE", accepted=None, completed=None, **fields):
    return GenerationJob.objects.create(
        slot=slot,
        attempt=attempt,
        is_current=False,
        idempotency_key=f"k-{slot.pk}-{attempt}",
        finished=fields.pop("finished", True),
        error_code=code,
        scripe_status=status,
        accepted_at=accepted,
        completed_at=completed,
        **fields,
    )


def event(slot, status, when, actor=None, kind=SlotEvent.Kind.STATUS):
    return SlotEvent.objects.create(
        slot=slot, kind=kind, status=status, actor=actor, created_at=when
    )


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


def test_percentiles_interpolate_as_postgresql_does():
    assert percentile([], 0.5) is None
    assert percentile([7], 0.9) == 7
    assert percentile([1, 2, 6], 0.5) == 2
    assert percentile([6, 1, 2], 0.9) == pytest.approx(5.2)


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


# Spend and the forecast -------------------------------------------------------------------------


def with_plan(team, plan="ADVANCED"):
    connection = connection_for(team.workspace)
    connection.plan = plan
    connection.save()
    team.workspace.refresh_from_db()
    return connection


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
    assert spend.cap_cents == 2000 and spend.left_cents == 1980 and spend.percent == 1
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
    assert spend.forecast_at is None


# At risk ------------------------------------------------------------------------------------


def learned_history(team, generations=(5, 10, 15, 20, 40), reviews=(1, 2, 3, 4, 9)) -> None:
    """Scripe took 5, 10, 15, 20 and 40 min (median 15 min); reviews took 1, 2, 3, 4 and 9 h
    (median 3 h)."""
    slot = team.slot(at(7, 1))
    for n, minutes in enumerate(generations):
        job(slot, n + 1, accepted=at(6, 1, 9), completed=at(6, 1, 9, minutes))
    for hours in reviews:
        decided = team.slot(at(7, 1))
        event(decided, "in_review", at(6, 1, 8))
        event(decided, "approving", at(6, 1, 8) + timedelta(hours=hours), team.manager)


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


# Auto-generation --------------------------------------------------------------------------------


@pytest.fixture
def keyed(team, monkeypatch):
    """A workspace with a key (not verified, which does not block) and auto-generation 24 h
    ahead; the django-q2 task is left out."""
    connection = connection_for(team.workspace)
    connection.set_key(DEFAULT_TEST_KEY)
    connection.plan = "ADVANCED"
    connection.save()
    team.workspace.auto_generate_hours = 24
    team.workspace.save()
    monkeypatch.setattr(dispatch, "enqueue", lambda job_ids: None)
    return connection


def test_auto_generation_sends_each_due_draft_once(team, keyed):
    hour = timedelta(hours=1)
    due = team.slot(NOW + 2 * hour)
    team.slot(NOW + 30 * hour)  # further than 24 h
    team.slot(NOW + timedelta(minutes=3))  # inside the planning lead
    team.slot(NOW + 2 * hour, status="in_review")
    team.slot(NOW + 2 * hour, project=team.paused)
    gone = team.slot(NOW + 2 * hour)
    PlannedSlot.objects.filter(pk=gone.pk).update(deleted_at=NOW)

    assert auto_generations_sweep() == 1
    assert auto_generations_sweep() == 0
    due.refresh_from_db()
    assert due.status == "queued" and due.auto_generated_at == NOW
    assert GenerationJob.objects.filter(slot=due).count() == 1
    assert GenerationJob.objects.count() == 1

    # Back to a draft somehow (say an admin's fix): still never a second time on its own.
    PlannedSlot.objects.filter(pk=due.pk).update(status="draft")
    assert auto_generations_sweep() == 0


def test_auto_generation_is_off_without_hours(team, keyed):
    team.slot(NOW + timedelta(hours=2))
    for hours in (None, 0):
        team.workspace.auto_generate_hours = hours
        team.workspace.save()
        assert auto_generations_sweep() == 0


def test_auto_generation_never_runs_after_the_cap_until_the_utc_day_ends(team, keyed, time_machine):
    slot = team.slot(at(6, 11, 1))
    keyed.note_spend_cap({"bucketDate": "2026-06-10", "spentCents": 2000, "capCents": 2000})
    assert auto_generations_sweep() == 0
    slot.refresh_from_db()
    assert slot.status == "draft" and slot.auto_generated_at is None

    time_machine.move_to(at(6, 11, 0, 1), tick=False)
    assert auto_generations_sweep() == 1


def test_auto_generation_leaves_the_rest_of_the_estimated_cap_alone(team, keyed, monkeypatch):
    monkeypatch.setattr(spend, "PLAN_CAP_CENTS", {"ADVANCED": 10})  # two generations
    drafts = [team.slot(NOW + timedelta(hours=h)) for h in (1, 2, 3)]
    assert auto_generations_sweep() == 2
    assert [PlannedSlot.objects.get(pk=s.pk).status for s in drafts] == [
        "queued",
        "queued",
        "draft",
    ]
    assert PlannedSlot.objects.get(pk=drafts[2].pk).auto_generated_at is None


def test_a_refused_request_leaves_the_draft_unmarked_for_a_later_minute(team, keyed, monkeypatch):
    from calendar_app.core.refusals import Refusal

    def refuse(**kwargs):
        raise Refusal("Not now.")

    slot = team.slot(NOW + timedelta(hours=2))
    monkeypatch.setattr(auto_generation, "generation_request", refuse)
    assert auto_generations_sweep() == 0
    slot.refresh_from_db()
    assert slot.auto_generated_at is None and slot.status == "draft"
    monkeypatch.undo()
    monkeypatch.setattr(dispatch, "enqueue", lambda job_ids: None)
    assert auto_generations_sweep() == 1


def test_a_workspace_whose_key_blocks_generation_is_skipped(team, keyed):
    keyed.forget_key()
    keyed.save()
    team.slot(NOW + timedelta(hours=2))
    assert auto_generations_sweep() == 0


def test_the_every_minute_sweep_runs_auto_generation(team, keyed, monkeypatch):
    from calendar_app import tasks

    for name in ("generations_sweep", "approvals_sweep", "syncs_due", "missed_sweep"):
        monkeypatch.setattr(tasks, name, lambda: 0)
    team.slot(NOW + timedelta(hours=2))
    assert tasks.sweep()["auto_generated"] == 1
    assert timezone.now() == NOW


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


def test_between_one_and_two_the_pace_still_counts_from_midnight(time_machine, team):
    time_machine.move_to(at(6, 10, 1, 30), tick=False)
    with_plan(team, "SOLO")
    slot = team.slot(at(6, 20))
    for n in range(9):  # 45 ¢ in the first 90 minutes: 30 ¢ an hour
        job(slot, n + 1, accepted=at(6, 10, 0, 5) + timedelta(minutes=10 * n))
    spend = spend_today([team.workspace])[team.workspace.pk]
    assert spend.pace_since == at(6, 10, 0)
    assert spend.cents_per_second * 3600 == pytest.approx(30)


# The burn-down's geometry ----------------------------------------------------------------------


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
