"""Malformed input against the planning-at-volume endpoints (#15), as
test_malformed_input does for the rest: never a 5xx, and a refused request changes no row."""

from __future__ import annotations

from datetime import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from calendar_app.models import Label, ScheduleTime
from tests.calendar_app.test_malformed_input import (
    FUZZ,
    any_text,
    bad_day,
    bad_time,
    digest,
    junk_id,
    slot_form,
    stray,
    with_nul,
)
from tests.calendar_app.test_malformed_input import world as world

times_text = st.one_of(with_nul, st.sampled_from(["08:10", "25:00", "9:7", "noon", "12:00, 7:05"]))


def schedule_form(w):
    return st.fixed_dictionaries({"day_1": times_text}, optional={"day_2": any_text})


def repeat_form(w):
    """The new-post form with a repeat rule that cannot stand (and a refused note)."""
    return st.builds(
        lambda base, rule: {**base, **rule},
        slot_form(w),
        st.fixed_dictionaries(
            {
                "repeat": st.one_of(any_text, st.sampled_from(["weekly", "monthly"])),
                "interval": st.one_of(any_text, st.sampled_from(["0", "53", "-1"])),
                "weekdays": st.lists(st.one_of(any_text, st.sampled_from(["7", "-1"]))),
                "monthly_by": st.one_of(any_text, st.just("weekday")),
                "month_day": st.one_of(any_text, st.sampled_from(["0", "32"])),
                "week_of_month": st.one_of(any_text, st.sampled_from(["0", "5"])),
                "ends": st.sampled_from(["until", "count", "never", "x"]),
                "until": bad_day,
                "count": st.one_of(any_text, st.sampled_from(["0", "100000"])),
            }
        ),
    )


POSTS = {
    "add to queue": ("/queue/add/", lambda w: slot_form(w)),
    "plan a series": ("/series/new/", repeat_form),
    "schedule": ("/queue/{scripe_id}/schedule/", schedule_form),
    "reorder": (
        "/queue/{scripe_id}/reorder/",
        lambda w: st.fixed_dictionaries(
            {"order": st.lists(st.one_of(junk_id, st.just(w["draft"])))}
        ),
    ),
    "reflow another's": ("/queue/proj_globex/reflow/", lambda w: stray),
    "add a label": (
        "/labels/add/{ws}/",
        lambda w: st.fixed_dictionaries(
            {
                "name": st.one_of(with_nul, st.just(" "), st.just("x" * 41), st.just("Taken")),
                "colour": st.one_of(any_text, st.sampled_from(["9", "-1"])),
            }
        ),
    ),
    "move to an hour": (
        "/slots/{draft}/move/",
        lambda w: st.fixed_dictionaries(
            {
                "date": st.one_of(bad_day, st.just("2026-12-10")),
                "time": bad_time.filter(bool),  # no time: the card keeps its own
            }
        ),
    ),
}


@pytest.mark.parametrize("name", sorted(POSTS))
def test_a_refused_planning_post_answers_in_words_and_changes_nothing(
    client,
    team,
    world,
    name,
):
    ScheduleTime.objects.create(project=team.project, weekday=1, time=time(8, 30))
    Label.objects.create(workspace=team.workspace, name="Taken")
    template, strategy = POSTS[name]
    url = template.format(**world, scripe_id=team.project.scripe_id)
    client.force_login(team.admin)
    before = digest()

    @FUZZ
    @given(data=strategy(world), htmx=st.booleans())
    def check(data, htmx):
        headers = {"HX-Request": "true"} if htmx else {}
        response = client.post(url, data, headers=headers)
        assert response.status_code < 500, (data, response.content[:300])
        assert digest() == before, f"{name} changed a row for {data!r}"

    check()
