"""Planning at volume (#15), driven in Chromium: a manager sets a posting schedule, an editor
fills the week through "Add to queue" with a label, the manager swaps two queued posts by
dragging, the week shows them, a card is dragged to another day, and the queue is filtered
by label."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from calendar_app.models import Label, PlannedSlot, Project
from tests.browser.conftest import next_wednesday

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
BERLIN = ZoneInfo("Europe/Berlin")


def test_13_fill_a_week_through_the_queue_reorder_it_and_filter_by_label(journey, time_machine):
    wednesday = next_wednesday()
    time_machine.move_to(wednesday, tick=True)  # 09:00 UTC: 10:00 or 11:00 in Berlin
    team = journey.team
    project = Project.objects.get(workspace=team.workspace, name="Lena Fischer")
    Label.objects.create(workspace=team.workspace, name="Launch", colour=2)
    Label.objects.create(workspace=team.workspace, name="Hiring", colour=4)

    # The manager gives the project a schedule: every weekday at 09:00, Berlin time.
    manager = journey.page_for(team.manager)
    manager.goto(f"{journey.url}/queue/{project.scripe_id}/")
    for day in range(5):
        manager.fill(f"#id_day_{day}", "09:00")
    manager.click("button:has-text('Save schedule')")
    manager.locator("text=Schedule: Mon 09:00, Tue 09:00").wait_for()

    # The editor adds four posts to the queue from the new-post dialog, the first as Launch.
    editor = journey.page_for(team.editor)
    thursday = wednesday.date() + timedelta(days=1)
    for n in range(4):
        editor.hover(f".day[data-date='{thursday}']")  # its "+" shows on hover
        editor.click(f".day[data-date='{thursday}'] .day-add")
        editor.wait_for_selector("dialog[open] #slot-form")
        editor.select_option("#id_project", label="Lena Fischer")
        editor.fill("#id_note_text", f"Queued idea number {n + 1}.")
        if n == 0:
            editor.check("dialog label.label-choice:has-text('Launch') input")
        editor.click("dialog button:has-text('Add to queue')")
        editor.wait_for_selector("dialog[open]", state="detached")
    slots = list(PlannedSlot.objects.order_by("scheduled_for"))
    assert len(slots) == 4
    local = [s.scheduled_for.astimezone(BERLIN) for s in slots]
    # Wednesday's 09:00 has passed: Thursday on, one weekday each, at 09:00 on the wall clock.
    assert [t.strftime("%H:%M") for t in local] == ["09:00"] * 4
    assert local[0].date() == thursday
    assert all(t.weekday() < 5 for t in local)
    assert list(slots[0].labels.values_list("name", flat=True)) == ["Launch"]

    # A weekly series from the same dialog: every Tuesday at 10:00 Berlin time, three times.
    editor.hover(f".day[data-date='{thursday}']")
    editor.click(f".day[data-date='{thursday}'] .day-add")
    editor.wait_for_selector("dialog[open] #slot-form")
    editor.select_option("#id_project", label="Lena Fischer")
    editor.fill("#id_note_text", "Tuesday tip.")
    editor.select_option("#id_time", "10:00")
    editor.click("dialog summary:has-text('Repeat')")
    editor.check("dialog input[name=weekdays][value='1']")
    editor.check("dialog input[name=ends][value=count]")
    editor.fill("dialog input[name=count]", "3")
    editor.click("dialog button:has-text('Plan series')")
    editor.wait_for_selector("dialog[open]", state="detached")
    tips = PlannedSlot.objects.filter(note__text="Tuesday tip.").order_by("scheduled_for")
    assert [f"{s.scheduled_for.astimezone(BERLIN):%a %H:%M}" for s in tips] == ["Tue 10:00"] * 3

    # The manager swaps the first two queued posts by dragging one onto the other.
    manager.goto(f"{journey.url}/queue/{project.scripe_id}/")
    first = f"[data-slot-id='{slots[0].public_id}']"
    second = f"[data-slot-id='{slots[1].public_id}']"
    # The toast comes with the reorder's answer, and the list only asks for its new copy
    # after it. "networkidle" passed at once (the page had been idle before the drag), so the
    # filter below could be sent while that refresh was out: the refresh then replaced the
    # list the filter's answer was meant for, htmx dropped that answer, and the list stayed
    # unfiltered. Wait for the refresh itself.
    list_url = f"{journey.url}/queue/{project.scripe_id}/"
    with manager.expect_response(
        lambda r: r.url == list_url and r.request.method == "GET"
    ) as refreshed:
        manager.drag_and_drop(first, second)
        manager.locator("#toasts >> text=Queue reordered").wait_for()
    assert refreshed.value.ok
    # The refreshed list shows the first post after the second.
    manager.locator(f"#queue-times .queue-time:has({second}) ~ .queue-time {first}").wait_for()
    before = {s.pk: s.scheduled_for for s in slots}
    for slot in slots:
        slot.refresh_from_db()
    assert (slots[0].scheduled_for, slots[1].scheduled_for) == (
        before[slots[1].pk],
        before[slots[0].pk],
    )
    assert sorted(s.scheduled_for for s in slots) == sorted(before.values())

    # Filtered by Launch, only the Launch post is shown; the other times say they are taken.
    manager.select_option("#queue-label", label="Launch")
    manager.locator("text=Taken by a post without this label").first.wait_for()
    assert manager.locator(".queue-post").count() == 1
    assert "Queued idea number 1." in manager.inner_text(".queue-post")

    # The week is an hourly grid: the posts sit in the 09:00 row, the schedule's free times
    # show as faint slots, and a card dropped on an hour takes that hour.
    last = slots[-1].scheduled_for.astimezone(BERLIN).date()
    editor.goto(f"{journey.url}/calendar/week/{last}/")
    free = editor.locator(".hour-cell[data-hour='9'] .schedule-mark")
    free.first.wait_for()  # the schedule's times after the last queued post
    assert "09:00 · Lena Fischer" in free.first.inner_text()
    week = slots[0].scheduled_for.astimezone(BERLIN).date()
    editor.goto(f"{journey.url}/calendar/week/{week}/")
    card = f"#slot-{slots[0].public_id}"
    editor.locator(f".hour-cell[data-date='{week}'][data-hour='9'] {card}").wait_for()
    target = week + timedelta(days=1 if week.weekday() < 6 else -1)
    cell = f".hour-cell[data-date='{target}'][data-hour='14']"
    editor.drag_and_drop(card, cell, target_position={"x": 12, "y": 3})
    editor.locator(f"{cell} {card}").wait_for()
    slots[0].refresh_from_db()
    moved = slots[0].scheduled_for.astimezone(BERLIN)
    assert (moved.date(), f"{moved:%H:%M}") == (target, "14:00")

    # All slots, filtered by label: only the Launch post.
    launch = Label.objects.get(name="Launch")
    editor.goto(f"{journey.url}/slots/")
    editor.select_option("#filter-label", label="Launch")
    editor.wait_for_url(f"**/slots/?*label={launch.public_id}*")
    assert editor.locator("tr[data-slot]").count() == 1
    assert "Queued idea number 1." in editor.inner_text("tr[data-slot]")


def test_top_of_queue_is_a_managers_and_says_how_many_posts_moved(journey):
    """QA: an editor's "Add to top of queue" moved every queued post one time later, where
    the queue page says only a manager reorders, and the toast did not say so."""
    from datetime import time

    from calendar_app.planning import queue

    team = journey.team
    project = Project.objects.get(workspace=team.workspace, name="Lena Fischer")
    queue.schedule_set(project=project, schedule=[(day, time(9)) for day in range(7)])
    queued = [
        queue.queue_add(
            user=team.editor, project=project, note_text=f"Queued {n}.", note=None, language="en"
        ).slot
        for n in (1, 2)
    ]
    before = {slot.pk: slot.scheduled_for for slot in queued}

    # The editor adds to the queue; putting a post first is not offered.
    editor = journey.page_for(team.editor)
    editor.click("a.button:has-text('New post')")
    editor.wait_for_selector("dialog[open] #slot-form")
    assert editor.locator("dialog button:has-text('Add to queue')").is_visible()
    assert editor.locator("dialog button:has-text('Add to top of queue')").count() == 0

    # The manager puts one first and is told what that did to the others.
    manager = journey.page_for(team.manager)
    manager.click("a.button:has-text('New post')")
    manager.wait_for_selector("dialog[open] #slot-form")
    manager.select_option("#id_project", label="Lena Fischer")
    manager.fill("#id_note_text", "Urgent: our answer to today's news.")
    manager.click("dialog button:has-text('Add to top of queue')")
    manager.locator("#toasts >> text=2 queued posts moved one time later.").wait_for()
    assert "Queued first, for " in manager.inner_text("#toasts")
    urgent = PlannedSlot.objects.get(note__text="Urgent: our answer to today's news.")
    assert urgent.scheduled_for == before[queued[0].pk]
    for slot in queued:
        slot.refresh_from_db()
    assert queued[0].scheduled_for == before[queued[1].pk]
    assert queued[1].scheduled_for > before[queued[1].pk]
