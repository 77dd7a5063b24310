"""Recurring series (#15): rules in local time across DST (Europe/Berlin both ways, and
Asia/Tokyo without DST), materialisation a rolling horizon ahead (idempotent), "this one" and
"this and following", deleting, the steering line, and the pages."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta

import pytest

from calendar_app.core.refusals import Refusal
from calendar_app.models import (
    Label,
    PlannedSlot,
    Series,
    SeriesOccurrence,
    SourceNote,
    Workspace,
)
from calendar_app.pipeline.generation import source_text
from calendar_app.planning import series as series_rules
from calendar_app.planning.series import Rule

# Thursday 15 October 2026 in Berlin; the clocks go back on 25 October 2026 and forward on
# 28 March 2027.
NOW = datetime(2026, 10, 15, 10, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _now(time_machine):
    time_machine.move_to(NOW, tick=False)


def create(team, rule: Rule, *, day=date(2026, 10, 20), clock=time(9), project=None, **kw):
    project = project or team.project
    return series_rules.series_create(
        user=team.editor,
        zone=project.workspace.zone,
        rule=rule,
        project=project,
        note_text=kw.pop("note_text", "Weekly tip"),
        note=None,
        language="en",
        day=day,
        clock=clock,
        **kw,
    )


def local_times(series) -> list[str]:
    zone = series.workspace.zone
    slots = PlannedSlot.objects.alive().filter(occurrence__series=series).order_by("scheduled_for")
    return [f"{s.scheduled_for.astimezone(zone):%a %d %b %H:%M}" for s in slots]


def utc_hours(series) -> list[int]:
    slots = PlannedSlot.objects.filter(occurrence__series=series).order_by("scheduled_for")
    return [s.scheduled_for.hour for s in slots]


WEEKLY_TUE = Rule(frequency="weekly", weekdays=(1,))


# the rule in local time ------------------------------------------------------------------------


def test_a_weekly_post_stays_at_nine_when_the_clocks_go_back(team):
    series = create(team, Rule(frequency="weekly", weekdays=(1,), count=3))
    assert local_times(series) == ["Tue 20 Oct 09:00", "Tue 27 Oct 09:00", "Tue 03 Nov 09:00"]
    assert utc_hours(series) == [7, 8, 8]  # CEST, then CET


def test_a_weekly_post_stays_at_nine_when_the_clocks_go_forward(team, time_machine):
    time_machine.move_to(datetime(2027, 3, 10, 12, 0, tzinfo=UTC), tick=False)
    series = create(team, Rule(frequency="weekly", weekdays=(4,), count=3), day=date(2027, 3, 19))
    assert local_times(series) == ["Fri 19 Mar 09:00", "Fri 26 Mar 09:00", "Fri 02 Apr 09:00"]
    assert utc_hours(series) == [8, 8, 7]  # CET, then CEST


def test_a_time_the_clocks_skip_is_skipped_and_said(team, time_machine):
    time_machine.move_to(datetime(2027, 3, 10, 12, 0, tzinfo=UTC), tick=False)
    rule = Rule(frequency="weekly", weekdays=(6,), count=3)
    series = create(team, rule, day=date(2027, 3, 21), clock=time(2, 30))
    assert local_times(series) == ["Sun 21 Mar 02:30", "Sun 04 Apr 02:30"]
    skipped = SeriesOccurrence.objects.get(series=series, index=2)
    assert skipped.slot is None and "clocks go forward" in skipped.skipped


def test_a_zone_without_dst_keeps_the_same_utc_time(team):
    tokyo = Workspace.objects.create(name="Tokyo", time_zone="Asia/Tokyo")
    project = team.project.__class__.objects.create(
        workspace=tokyo, scripe_id="proj_tokyo", name="Tokyo page"
    )
    series = series_rules.series_create(
        user=team.editor,
        zone=tokyo.zone,
        rule=Rule(frequency="weekly", weekdays=(1,), count=3),
        project=project,
        note_text="Tip",
        note=None,
        language="en",
        day=date(2026, 10, 20),
        clock=time(9),
    )
    assert local_times(series) == ["Tue 20 Oct 09:00", "Tue 27 Oct 09:00", "Tue 03 Nov 09:00"]
    assert utc_hours(series) == [0, 0, 0]


def test_every_two_weeks_on_two_weekdays_until_a_date(team):
    rule = Rule(frequency="weekly", interval=2, weekdays=(0, 3), until=date(2026, 11, 12))
    series = create(team, rule, day=date(2026, 10, 19))
    assert local_times(series) == [
        "Mon 19 Oct 09:00",
        "Thu 22 Oct 09:00",
        "Mon 02 Nov 09:00",
        "Thu 05 Nov 09:00",
    ]


def test_monthly_on_the_second_tuesday(team):
    rule = Rule(frequency="monthly", monthly_by="weekday", week_of_month=2, month_weekday=1)
    series = create(team, rule, day=date(2026, 10, 16))
    # Eight weeks ahead of 15 October: the second Tuesdays of November and December.
    assert local_times(series) == ["Tue 10 Nov 09:00", "Tue 08 Dec 09:00"]


def test_monthly_on_a_day_and_the_rules_own_sense(team):
    series = create(team, Rule(frequency="monthly", monthly_by="day", month_day=31))
    assert local_times(series) == ["Sat 31 Oct 09:00"]  # November has no 31st
    with pytest.raises(Refusal) as refused:
        create(team, Rule(frequency="weekly", weekdays=(), interval=0, count=0))
    assert {"weekdays", "interval", "count"} <= set(refused.value.fields)


def test_the_first_post_follows_the_slot_rules(team):
    with pytest.raises(Refusal) as refused:
        create(team, WEEKLY_TUE, day=date(2026, 10, 1), note_text="")
    assert {"time", "note_text"} <= set(refused.value.fields)
    assert not Series.objects.exists()


# materialising ---------------------------------------------------------------------------------


def test_occurrences_are_made_eight_weeks_ahead_and_a_second_run_makes_none(team, time_machine):
    label = Label.objects.create(workspace=team.workspace, name="Tips")
    series = create(team, WEEKLY_TUE, labels=[label])
    assert len(local_times(series)) == 8  # 20 Oct .. 8 Dec
    assert series_rules.series_materialise_all() == 0
    assert series_rules.series_materialise(series=series) == 0
    assert PlannedSlot.objects.count() == 8
    assert all(list(s.labels.all()) == [label] for s in PlannedSlot.objects.all())
    time_machine.move_to(NOW + timedelta(weeks=2), tick=False)
    assert series_rules.series_materialise_all() == 2
    assert series_rules.series_materialise_all() == 0
    assert PlannedSlot.objects.count() == 10


def test_the_request_keys_make_a_lost_occurrence_row_plan_nothing_twice(team):
    series = create(team, Rule(frequency="weekly", weekdays=(1,), count=2))
    SeriesOccurrence.objects.filter(series=series, index=2).delete()  # as after a crash
    series_rules.series_materialise(series=series)
    assert PlannedSlot.objects.count() == 2
    assert SeriesOccurrence.objects.get(series=series, index=2).slot is not None


def test_the_hourly_schedule_exists(db):
    from django_q.models import Schedule

    schedule = Schedule.objects.get(name="Materialise recurring series")
    assert schedule.func == "calendar_app.tasks.materialise_series"


def test_each_occurrence_steers_scripe_away_from_the_same_post(team):
    series = create(team, WEEKLY_TUE)
    third = SeriesOccurrence.objects.get(series=series, index=3).slot
    text = source_text(third.note.text, "", series_rules.steering_for(third))
    assert text.startswith("Weekly tip\n\n")
    assert "week 3 of a recurring series (every week on Tue)" in text
    plain = team.slot(NOW + timedelta(days=3))
    assert series_rules.steering_for(plain) == ""


# editing and deleting --------------------------------------------------------------------------


def test_this_one_changes_only_that_post_and_leaves_the_series_text(team):
    series = create(team, Rule(frequency="weekly", weekdays=(1,), count=3))
    second = SeriesOccurrence.objects.get(series=series, index=2)
    series_rules.occurrence_edit_one(
        occurrence=second,
        user=team.editor,
        zone=team.workspace.zone,
        project=team.project,
        note_text="A special edition",
        note=None,
        language="en",
        day=date(2026, 10, 28),
        clock=time(11),
    )
    assert local_times(series) == ["Tue 20 Oct 09:00", "Wed 28 Oct 11:00", "Tue 03 Nov 09:00"]
    series.note.refresh_from_db()
    assert series.note.text == "Weekly tip"
    second.refresh_from_db()
    assert second.detached and second.slot.note.text == "A special edition"


def test_this_and_following_splits_the_series_and_changes_the_posts_not_yet_written(team):
    series = create(team, Rule(frequency="weekly", weekdays=(1,), count=6))
    third = SeriesOccurrence.objects.get(series=series, index=3)
    written = SeriesOccurrence.objects.get(series=series, index=4).slot
    PlannedSlot.objects.filter(pk=written.pk).update(status="in_review")
    new = series_rules.occurrence_edit_following(
        occurrence=third,
        user=team.editor,
        zone=team.workspace.zone,
        project=team.project,
        note_text="Weekly tip, new format",
        note=None,
        language="en",
        day=third.occurs_on,
        clock=time(10, 30),
    )
    series.refresh_from_db()
    assert (series.until, series.count) == (None, 2)
    assert (new.first_index, new.count, new.starts_on) == (3, 4, date(2026, 11, 3))
    assert local_times(series) == ["Tue 20 Oct 09:00", "Tue 27 Oct 09:00"]
    assert local_times(new) == [
        "Tue 03 Nov 10:30",
        "Tue 10 Nov 09:00",  # in review: it stays as it was written
        "Tue 17 Nov 10:30",
        "Tue 24 Nov 10:30",
    ]
    assert set(new.occurrences.values_list("index", flat=True)) == {3, 4, 5, 6}
    texts = {o.index: o.slot.note.text for o in new.occurrences.select_related("slot__note")}
    assert texts == {
        3: "Weekly tip, new format",
        4: "Weekly tip",
        5: "Weekly tip, new format",
        6: "Weekly tip, new format",
    }
    assert series_rules.series_materialise_all() == 0  # nothing made twice after the split
    assert PlannedSlot.objects.alive().count() == 6


def test_deleting_a_series_keeps_what_was_written_scheduled_or_published(team):
    series = create(team, Rule(frequency="weekly", weekdays=(1,), count=4))
    slots = [o.slot for o in series.occurrences.select_related("slot").order_by("index")]
    PlannedSlot.objects.filter(pk=slots[0].pk).update(status="scheduled")
    PlannedSlot.objects.filter(pk=slots[1].pk).update(status="in_review")
    assert series_rules.series_delete(series=series) == (2, 2)
    alive = set(PlannedSlot.objects.alive().values_list("pk", flat=True))
    assert alive == {slots[0].pk, slots[1].pk}
    assert series_rules.series_materialise_all() == 0


# the pages -------------------------------------------------------------------------------------


def form(team, **overrides) -> dict:
    data = {
        "project": team.project.pk,
        "note_text": "Weekly tip",
        "language": "en",
        "date": "2026-10-20",
        "time": "09:00",
        "repeat": "weekly",
        "interval": "1",
        "weekdays": ["1"],
        "ends": "count",
        "count": "3",
    }
    return {**data, **overrides}


def test_the_new_post_form_plans_a_series(client, team):
    client.force_login(team.editor)
    assert "Plan series" in client.get("/slots/new/").content.decode()
    response = client.post("/series/new/", form(team))
    series = Series.objects.get()
    assert response["Location"] == f"/series/{series.public_id}/"
    html = client.get(response["Location"]).content.decode()
    assert "every week on Tue, 3 times" in html
    assert PlannedSlot.objects.count() == 3


def test_a_bad_rule_is_shown_on_the_form_and_nothing_is_saved(client, team):
    client.force_login(team.editor)
    response = client.post("/series/new/", form(team, weekdays=[]))
    assert response.status_code == 200
    assert "Pick the weekdays it repeats on." in response.content.decode()
    assert not Series.objects.exists() and not SourceNote.objects.exists()


def test_an_end_the_calendar_does_not_show_is_refused_on_the_form(client, team):
    # The series page shows its end; a year the calendar cannot show is refused like a post's.
    client.force_login(team.editor)
    response = client.post("/series/new/", form(team, ends="until", until="9999-12-31"))
    assert response.status_code == 200
    assert "Pick a day between 1970 and 2200." in response.content.decode()
    assert not Series.objects.exists() and not SourceNote.objects.exists()


def test_an_occurrence_is_edited_for_this_and_following_from_its_form(client, team):
    series = create(team, Rule(frequency="weekly", weekdays=(1,), count=3))
    second = SeriesOccurrence.objects.get(series=series, index=2).slot
    client.force_login(team.editor)
    html = client.get(f"/slots/{second.public_id}/edit/").content.decode()
    assert f'action="/series/occurrence/{second.public_id}/edit/"' in html
    assert "This and the following posts" in html
    data = form(team, date="2026-10-27", time="10:00", scope="following")
    response = client.post(f"/series/occurrence/{second.public_id}/edit/", data)
    assert response.status_code == 302
    new = Series.objects.exclude(pk=series.pk).get()
    assert local_times(new) == ["Tue 27 Oct 10:00", "Tue 03 Nov 10:00"]


def test_saving_an_occurrence_on_its_own_page_lands_where_saving_any_post_does(client, team):
    """A series' page links to each occurrence's form page: saving there goes on to the post
    (or, for "this and following", to the new series), as saving a post does, rather than
    leave the person on the form with a toast (#24). In the dialog, the dialog closes."""
    series = create(team, Rule(frequency="weekly", weekdays=(1,), count=3))
    second = SeriesOccurrence.objects.get(series=series, index=2).slot
    client.force_login(team.editor)
    url = f"/series/occurrence/{second.public_id}/edit/"
    assert "Edit post" in client.get(url).content.decode()
    on_its_page = {"HX-Request": "true", "HX-Current-URL": f"http://testserver{url}"}
    response = client.post(
        url, form(team, note_text="Edited tip", scope="this"), headers=on_its_page
    )
    assert response.status_code == 200
    assert response["HX-Redirect"] == f"/slots/{second.public_id}/"
    assert "This post saved." in client.get(response["HX-Redirect"]).content.decode()

    in_the_dialog = {"HX-Request": "true", "HX-Current-URL": "http://testserver/calendar/2026/10/"}
    response = client.post(url, form(team, note_text="Again", scope="this"), headers=in_the_dialog)
    assert response.status_code == 204 and "HX-Redirect" not in response
    assert json.loads(response["HX-Trigger"])["toast"]["message"] == "This post saved."

    data = form(team, date="2026-10-27", time="10:00", scope="following")
    response = client.post(url, data, headers=on_its_page)
    new = Series.objects.exclude(pk=series.pk).get()
    assert response["HX-Redirect"] == f"/series/{new.public_id}/"


def test_series_pages_are_404_for_outsiders_and_need_a_login(client, team):
    series = create(team, WEEKLY_TUE)
    url = f"/series/{series.public_id}/"
    assert client.get(url)["Location"].startswith("/accounts/login/")
    client.force_login(team.outsider)
    assert client.get(url).status_code == 404
    assert client.post(f"{url}delete/").status_code == 404
    client.force_login(team.editor)
    assert client.get(f"{url}delete/").status_code == 405
    assert client.post(f"{url}delete/").status_code == 302
    assert Series.objects.get().ended_at is not None
