"""The posting schedule and its queue (#15): fill order, lead time, top of queue, reorder,
re-flow after a schedule change, and the pages."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, time

import pytest

from calendar_app.core.refusals import Refusal
from calendar_app.models import Label, PlannedSlot, QueueEntry, ScheduleTime
from calendar_app.planning import queue

# Thursday 15 October 2026, 12:00 in Berlin (CEST); the clocks go back on Sunday 25 October.
NOW = datetime(2026, 10, 15, 10, 0, tzinfo=UTC)
TUE, WED, THU = 1, 2, 3


@pytest.fixture(autouse=True)
def _now(time_machine):
    time_machine.move_to(NOW, tick=False)


@pytest.fixture
def schedule(team):
    """Tue and Thu 08:30, Wed 12:00, Berlin time."""
    for weekday, clock in [(TUE, time(8, 30)), (THU, time(8, 30)), (WED, time(12, 0))]:
        ScheduleTime.objects.create(project=team.project, weekday=weekday, time=clock)
    return team.project


def add(team, text="An idea", *, top=False, key=""):
    """Queues a post, as the editor (at the top, as the manager: a manager's call)."""
    return queue.queue_add(
        user=team.manager if top else team.editor,
        project=team.project,
        top=top,
        request_key=key,
        note_text=text,
        note=None,
        language="en",
    ).slot


def berlin(slot) -> str:
    slot.refresh_from_db()
    return f"{slot.scheduled_for.astimezone(slot.workspace.zone):%a %d %H:%M}"


def utc(y, m, d, h, mi=0):
    return datetime(y, m, d, h, mi, tzinfo=UTC)


# filling ---------------------------------------------------------------------------------------


def test_add_to_queue_fills_the_schedule_times_in_order_across_the_clock_change(team, schedule):
    slots = [add(team, f"Post {n}") for n in range(5)]
    assert [berlin(s) for s in slots] == [
        "Tue 20 08:30",
        "Wed 21 12:00",
        "Thu 22 08:30",
        "Tue 27 08:30",  # CET now: still 08:30 on the wall clock
        "Wed 28 12:00",
    ]
    assert slots[3].scheduled_for == utc(2026, 10, 27, 7, 30)
    assert QueueEntry.objects.count() == 5


def test_the_queue_skips_times_that_are_taken_by_any_post(team, schedule):
    team.slot(utc(2026, 10, 20, 6, 30))  # Tue 08:30 Berlin, planned by hand
    assert berlin(add(team)) == "Wed 21 12:00"


def test_a_schedule_time_closer_than_the_lead_time_is_skipped(team, schedule, time_machine):
    time_machine.move_to(utc(2026, 10, 20, 6, 27), tick=False)  # 08:27 in Berlin, Tuesday
    assert berlin(add(team)) == "Wed 21 12:00"


def test_the_same_request_twice_queues_one_post(team, schedule):
    first = add(team, key="a" * 32)
    second = add(team, key="a" * 32, top=True)
    assert first.pk == second.pk and PlannedSlot.objects.count() == 1


def test_a_project_without_a_schedule_says_so(team):
    with pytest.raises(Refusal) as refused:
        add(team)
    assert "no posting schedule" in refused.value.fields["queue"]
    assert not PlannedSlot.objects.exists()


def test_the_slot_rules_still_apply_to_a_queued_post(team, schedule):
    with pytest.raises(Refusal) as refused:
        add(team, text="")
    assert "note_text" in refused.value.fields
    assert not PlannedSlot.objects.exists()


# top of queue ----------------------------------------------------------------------------------


def test_top_of_queue_moves_the_queued_posts_down_one_time_each(team, schedule):
    a, b, c = add(team, "A"), add(team, "B"), add(team, "C")
    fixed = team.slot(utc(2026, 10, 27, 7, 30))  # Tue 27 08:30, planned by hand: it stays
    new = add(team, "New", top=True)
    assert berlin(new) == "Tue 20 08:30"
    assert [berlin(s) for s in (a, b, c)] == ["Wed 21 12:00", "Thu 22 08:30", "Wed 28 12:00"]
    assert berlin(fixed) == "Tue 27 08:30"


def test_top_of_queue_leaves_approved_posts_where_they_are(team, schedule):
    a, b = add(team, "A"), add(team, "B")
    PlannedSlot.objects.filter(pk=a.pk).update(status="scheduled")
    new = add(team, "New", top=True)
    assert berlin(a) == "Tue 20 08:30"  # approved: it holds its time
    assert berlin(new) == "Wed 21 12:00"
    assert berlin(b) == "Thu 22 08:30"


# reordering ------------------------------------------------------------------------------------


def test_reordering_swaps_times_and_never_loses_or_doubles_one(team, schedule):
    a, b, c = add(team, "A"), add(team, "B"), add(team, "C")
    times = sorted(s.scheduled_for for s in (a, b, c))
    moved = queue.queue_reorder(
        project=team.project, order=[str(c.public_id), str(a.public_id), str(b.public_id)]
    )
    assert moved == 3
    assert [berlin(s) for s in (c, a, b)] == ["Tue 20 08:30", "Wed 21 12:00", "Thu 22 08:30"]
    after = sorted(PlannedSlot.objects.values_list("scheduled_for", flat=True))
    assert after == times
    # Two of them, as a drag swaps them: the others keep their times.
    queue.queue_reorder(project=team.project, order=[str(b.public_id), str(c.public_id)])
    assert [berlin(s) for s in (b, a, c)] == ["Tue 20 08:30", "Wed 21 12:00", "Thu 22 08:30"]


def test_a_reorder_of_a_queue_that_changed_moves_nothing(team, schedule):
    a, b, c = add(team, "A"), add(team, "B"), add(team, "C")
    PlannedSlot.objects.filter(pk=c.pk).update(status="scheduled")  # approved meanwhile
    with pytest.raises(Refusal) as refused:
        queue.queue_reorder(
            project=team.project, order=[str(c.public_id), str(b.public_id), str(a.public_id)]
        )
    assert refused.value.stale
    assert [berlin(s) for s in (a, b, c)] == ["Tue 20 08:30", "Wed 21 12:00", "Thu 22 08:30"]


def test_a_post_moved_meanwhile_refuses_the_whole_reorder(team, schedule, monkeypatch):
    """The conditional UPDATE from the time the queue read: if one post moved between the
    read and the write, every move of the reorder is rolled back."""
    a, b, c = add(team, "A"), add(team, "B"), add(team, "C")
    real = PlannedSlot.queue_move
    calls = []

    def racing(slot, when, *, expected):
        calls.append(slot.pk)
        if len(calls) == 2:  # someone else moved this one a moment ago
            PlannedSlot.objects.filter(pk=slot.pk).update(scheduled_for=utc(2026, 11, 3, 7, 30))
        return real(slot, when, expected=expected)

    monkeypatch.setattr(PlannedSlot, "queue_move", racing)
    with pytest.raises(Refusal):
        queue.queue_reorder(
            project=team.project, order=[str(c.public_id), str(b.public_id), str(a.public_id)]
        )
    assert berlin(a) == "Tue 20 08:30" and berlin(c) == "Thu 22 08:30"


# schedule changes ------------------------------------------------------------------------------


def test_changing_the_schedule_offers_and_re_flows_the_queued_posts(team, schedule):
    a, b, c = add(team, "A"), add(team, "B"), add(team, "C")
    fixed = team.slot(utc(2026, 10, 16, 7, 0))  # Fri 16 09:00, planned by hand
    off = queue.schedule_set(
        project=team.project, schedule=queue.parse_schedule({0: "09:00", 4: "9:00"})
    )
    assert off == 3
    assert queue.queue_reflow(project=team.project) == 3
    assert [berlin(s) for s in (a, b, c)] == ["Mon 19 09:00", "Fri 23 09:00", "Mon 26 09:00"]
    assert berlin(fixed) == "Fri 16 09:00"
    assert queue.off_schedule(team.project) == []


def test_the_schedule_refuses_times_off_the_grid(team):
    with pytest.raises(Refusal) as refused:
        queue.parse_schedule({1: "08:10", 2: "noon"})
    assert set(refused.value.fields) == {"day_1", "day_2"}


# the pages -------------------------------------------------------------------------------------


def test_the_queue_page_lists_filled_and_empty_times(client, team, schedule):
    add(team, "Our first queued post")
    client.force_login(team.editor)
    html = client.get(f"/queue/{team.project.scripe_id}/").content.decode()
    assert "Tue 20 Oct, 08:30" in html and "Our first queued post" in html
    assert "Wed 21 Oct, 12:00" in html and "Empty" in html
    assert "Save schedule" not in html  # editors see, managers change


def test_the_queue_page_costs_the_same_for_one_post_or_twelve(
    client, team, schedule, django_assert_num_queries
):
    label = Label.objects.create(workspace=team.workspace, name="Launch")
    first = add(team)
    first.labels.add(label)
    client.force_login(team.manager)
    url = f"/queue/{team.project.scripe_id}/"
    client.get(url)
    with django_assert_num_queries(11) as one:
        client.get(url)
    for n in range(11):
        add(team, f"Post {n}").labels.add(label)
    with django_assert_num_queries(len(one.captured_queries)):
        assert client.get(url).status_code == 200


def test_a_manager_saves_the_schedule_and_is_offered_a_re_flow(client, team, schedule):
    add(team)
    client.force_login(team.manager)
    data = {f"day_{d}": "" for d in range(7)} | {"day_0": "09:00"}
    response = client.post(f"/queue/{team.project.scripe_id}/schedule/", data)
    assert response.status_code == 302
    assert queue.schedule_of(team.project) == [(0, time(9))]
    html = client.get(response["Location"]).content.decode()
    assert "Re-flow the queue" in html
    client.post(f"/queue/{team.project.scripe_id}/reflow/")
    assert queue.off_schedule(team.project) == []


def test_a_bad_schedule_is_shown_and_nothing_is_saved(client, team, schedule):
    client.force_login(team.manager)
    response = client.post(f"/queue/{team.project.scripe_id}/schedule/", {"day_0": "9:07"})
    assert response.status_code == 200
    assert "15-minute grid" in response.content.decode()
    assert len(queue.schedule_of(team.project)) == 3


def test_editors_may_not_change_the_schedule_or_reorder(client, team, schedule):
    client.force_login(team.editor)
    url = f"/queue/{team.project.scripe_id}"
    assert client.post(f"{url}/schedule/", {"day_0": "09:00"}).status_code == 403
    assert client.post(f"{url}/reorder/", {"order": []}).status_code == 403
    assert len(queue.schedule_of(team.project)) == 3


def test_outsiders_get_404_and_anonymous_users_the_login(client, team, schedule):
    url = f"/queue/{team.project.scripe_id}/"
    assert client.get(url)["Location"].startswith("/accounts/login/")
    client.force_login(team.outsider)
    assert client.get(url).status_code == 404
    assert client.post(f"{url}reorder/").status_code == 404


def test_the_queue_actions_take_only_post(client, team, schedule):
    client.force_login(team.manager)
    assert client.get(f"/queue/{team.project.scripe_id}/reorder/").status_code == 405
    assert client.get("/queue/add/").status_code == 405


def test_a_drag_on_the_queue_page_reorders_through_htmx(client, team, schedule):
    a, b = add(team, "A"), add(team, "B")
    client.force_login(team.manager)
    response = client.post(
        f"/queue/{team.project.scripe_id}/reorder/",
        {"order": [str(b.public_id), str(a.public_id)]},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 204 and "slots-changed" in json.loads(response["HX-Trigger"])
    assert [berlin(s) for s in (b, a)] == ["Tue 20 08:30", "Wed 21 12:00"]


def test_a_queued_post_is_draggable_only_for_who_may_reorder_and_says_why_not(
    client, team, schedule
):
    post = add(team, "Ours")
    label = Label.objects.create(workspace=team.workspace, name="Launch")
    post.labels.add(label)
    url = f"/queue/{team.project.scripe_id}/"

    def link(user, query=""):
        client.force_login(user)
        html = client.get(url + query).content.decode()
        return re.search(rf'<a [^>]*data-slot-id="{post.public_id}"[^>]*>', html).group(0)

    assert 'draggable="true"' in link(team.manager) and "title=" not in link(team.manager)
    assert 'draggable="true"' not in link(team.editor)
    assert 'title="Only a manager can reorder the queue."' in link(team.editor)
    filtered = link(team.manager, f"?label={label.public_id}")
    assert 'draggable="true"' not in filtered
    assert "to reorder the queue." in filtered


def test_the_htmx_queue_page_is_only_its_times(client, team, schedule):
    client.force_login(team.editor)
    response = client.get(f"/queue/{team.project.scripe_id}/", headers={"HX-Request": "true"})
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="queue-times"') and "<html" not in html


def toast(response) -> str:
    return json.loads(response["HX-Trigger"])["toast"]["message"]


def test_the_new_post_form_adds_to_the_queue(client, team, schedule):
    client.force_login(team.editor)
    html = client.get("/slots/new/").content.decode()
    assert "Add to queue" in html
    data = {"project": team.project.pk, "note_text": "Queued", "language": "en"}
    response = client.post("/queue/add/", {**data, "position": "bottom"})
    assert response.status_code == 302
    response = client.post(
        "/queue/add/", {**data, "position": "bottom"}, headers={"HX-Request": "true"}
    )
    assert toast(response) == "Queued for Wed 21 Oct, 12:00 (Europe/Berlin)."


def test_top_of_queue_is_a_managers_and_the_toast_says_what_moved(client, team, schedule):
    """QA: an editor's "Add to top of queue" moved every other queued post one time later,
    where the queue page says only a manager reorders, and the toast said nothing of it."""
    first, second = add(team, "First"), add(team, "Second")
    data = {"project": team.project.pk, "note_text": "Urgent", "language": "en"}
    client.force_login(team.editor)
    assert "Add to top of queue" not in client.get("/slots/new/").content.decode()
    response = client.post(
        "/queue/add/", {**data, "position": "top"}, headers={"HX-Request": "true"}
    )
    assert "Only a manager can put a post at the top of the queue" in response.content.decode()
    assert PlannedSlot.objects.count() == 2
    assert (berlin(first), berlin(second)) == ("Tue 20 08:30", "Wed 21 12:00")

    client.force_login(team.manager)
    assert "Add to top of queue" in client.get("/slots/new/").content.decode()
    response = client.post(
        "/queue/add/", {**data, "position": "top"}, headers={"HX-Request": "true"}
    )
    assert toast(response) == (
        "Queued first, for Tue 20 Oct, 08:30 (Europe/Berlin). 2 queued posts moved one time later."
    )
    assert (berlin(first), berlin(second)) == ("Wed 21 12:00", "Thu 22 08:30")


def test_the_service_refuses_an_editor_the_top_of_the_queue(team, schedule):
    with pytest.raises(Refusal) as refused:
        queue.queue_add(
            user=team.editor,
            project=team.project,
            top=True,
            note_text="X",
            note=None,
            language="en",
        )
    assert refused.value.status == 403 and "Only a manager" in refused.value.fields["queue"]
    assert not PlannedSlot.objects.exists()
    queued = queue.queue_add(
        user=team.admin, project=team.project, top=True, note_text="X", note=None, language="en"
    )
    assert (berlin(queued.slot), queued.moved) == ("Tue 20 08:30", 0)


def test_the_form_shows_why_a_post_could_not_be_queued(client, team):
    client.force_login(team.editor)
    data = {"project": team.project.pk, "note_text": "Queued", "language": "en"}
    response = client.post("/queue/add/", data)
    assert response.status_code == 200 and "no posting schedule" in response.content.decode()
    assert not PlannedSlot.objects.exists()
