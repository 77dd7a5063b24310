"""Bulk actions (#16) in Chromium: ticking rows with shift-click, moving them and undoing the
move, and the calendar's select mode with a bulk delete and its Undo."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from calendar_app.models import PlannedSlot, Project, SourceNote
from tests.browser.conftest import next_wednesday

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
BERLIN = ZoneInfo("Europe/Berlin")


def plan(team, when) -> PlannedSlot:
    project = Project.objects.get(workspace=team.workspace, name="Lena Fischer")
    note = SourceNote.objects.create(
        workspace=team.workspace, text="A batch idea.", author=team.editor
    )
    return PlannedSlot.objects.create(
        workspace=team.workspace, project=project, note=note, scheduled_for=when,
        created_by=team.editor,
    )  # fmt: skip


def local(day, hour: int, minute: int = 0):
    return timezone.make_aware(
        timezone.datetime(day.year, day.month, day.day, hour, minute), BERLIN
    )


def test_an_editor_shift_clicks_three_rows_moves_them_by_a_day_and_undoes_it(journey, time_machine):
    wednesday = next_wednesday()
    time_machine.move_to(wednesday, tick=True)
    thursday = wednesday.date() + timedelta(days=1)
    slots = [plan(journey.team, local(thursday, 9 + n, 15)) for n in range(4)]
    page = journey.page_for(journey.team.editor)
    page.goto(f"{journey.url}/slots/")
    box = "#row-{} [data-bulk-check]"
    page.click(box.format(slots[0].public_id))
    page.click(box.format(slots[2].public_id), modifiers=["Shift"])
    assert page.inner_text("[data-bulk-count]") == "3 selected"
    assert page.is_checked(box.format(slots[1].public_id))
    assert not page.is_checked(box.format(slots[3].public_id))
    page.fill("#bulk-form input[name=days]", "1")
    page.click("#bulk-form button[value=move]")
    page.locator("#bulk-panel >> text=Finished: 3 done.").wait_for()
    assert page.locator("#bulk-panel .bulk-item.bulk-done a").count() == 3
    for n, slot in enumerate(slots):
        slot.refresh_from_db()
        day = thursday + timedelta(days=1 if n < 3 else 0)
        assert slot.scheduled_for == local(day, 9 + n, 15)
    # The list refreshed itself: the moved rows show their new day, still ticked.
    friday = f"{thursday + timedelta(days=1):%a %-d %b}"
    page.locator(f"#row-{slots[0].public_id} >> text={friday}").wait_for()
    # A new row's box is ticked again on the next animation frame, not with the swap that
    # brought the row: read once, it could still be unticked.
    expect(page.locator(box.format(slots[0].public_id))).to_be_checked()

    # Undo, as for a single move (#24): the three go back to Thursday, as one batch.
    page.click("#bulk-panel [data-bulk-undo]:has-text('Undo move')")
    page.locator("#bulk-panel >> text=Undo: Move 3 posts later by 1 day").wait_for()
    page.locator("#bulk-panel >> text=Finished: 3 done.").wait_for()
    page.locator(f"#row-{slots[0].public_id} >> text={thursday:%a %-d %b}").wait_for()
    assert not page.locator("#bulk-panel [data-bulk-undo]").count()
    for n, slot in enumerate(slots):
        slot.refresh_from_db()
        assert slot.scheduled_for == local(thursday, 9 + n, 15)


def test_select_mode_on_the_week_deletes_two_cards_and_undo_brings_them_back(journey, time_machine):
    wednesday = next_wednesday()
    time_machine.move_to(wednesday, tick=True)
    thursday = wednesday.date() + timedelta(days=1)
    first, second = plan(journey.team, local(thursday, 10)), plan(journey.team, local(thursday, 14))
    page = journey.page_for(journey.team.editor)
    page.goto(f"{journey.url}/calendar/week/{thursday}/")
    page.click("[data-bulk-select-mode]")
    page.locator("#bulk-dock #bulk-form").wait_for()
    page.click(f"#slot-{first.public_id}")
    page.click(f"#slot-{second.public_id}")
    assert page.inner_text("[data-bulk-count]") == "2 selected"
    assert not page.locator("#dialog[open]").count()  # a click in select mode ticks, not opens
    page.click("#bulk-form button[value=delete]")
    page.locator("#bulk-panel >> text=Finished: 2 done.").wait_for()
    page.locator(f"#slot-{first.public_id}").wait_for(state="detached")
    assert PlannedSlot.objects.alive().count() == 0
    page.click("[data-bulk-undo]")
    # The delete's results said "Finished: 2 done." already: wait for the undo's own.
    undo_run(page).get_by_text("Finished: 2 done.").wait_for()
    page.locator(f"#slot-{first.public_id}").wait_for()
    assert PlannedSlot.objects.alive().count() == 2


def undo_run(page):
    """The results of an Undo in the bulk panel (those of the action it undoes say the same
    "Finished: … done."): "Undo delete: 2 posts", "Undo: Move 3 posts later by 1 day"."""
    title = page.locator(".bulk-title", has_text="Undo")
    return page.locator("#bulk-panel .bulk-run").filter(has=title)


SHOWN = """([what, under]) => {
    const box = document.querySelector(what).getBoundingClientRect();
    const cover = under ? document.querySelector(under).getBoundingClientRect().bottom : 0;
    return box.top >= cover && box.bottom <= window.innerHeight;
}"""


def shown(page, what: str, under: str | None = None) -> None:
    """Waits until `what` is inside the window, below `under` (a bar stuck to its top)."""
    page.wait_for_function(SHOWN, arg=[what, under])


def focused(page, what: str) -> bool:
    return page.evaluate("s => document.activeElement.matches(s)", what)


def test_the_results_of_a_bulk_action_far_down_the_list_come_into_view_with_focus(journey):
    # The results and their Undo were drawn above the list, off screen, when the person had
    # scrolled down to tick rows: nothing seemed to happen. (No time machine here: the
    # cluster that does a big run keeps the real time, and must see its task as due.)
    thursday = timezone.localdate(timezone.now(), BERLIN) + timedelta(days=2)
    slots = [plan(journey.team, local(thursday, 7 + n // 4, n % 4 * 15)) for n in range(25)]
    page = journey.page_for(journey.team.editor)
    page.goto(f"{journey.url}/slots/")
    box = "#row-{} [data-bulk-check]"
    page.click(box.format(slots[-2].public_id))  # the click scrolls the row into view
    page.click(box.format(slots[-1].public_id))
    assert page.evaluate("window.scrollY") > 500
    page.fill("#bulk-form input[name=days]", "1")
    page.click("#bulk-form button[value=move]")
    page.locator("#bulk-panel >> text=Finished: 2 done.").wait_for()
    title = "#bulk-panel .bulk-title"
    shown(page, title, under="#bulk-form")
    shown(page, "#bulk-panel [data-bulk-undo]", under="#bulk-form")
    assert focused(page, title)
    assert page.get_attribute(title, "aria-describedby").startswith("bulk-summary-")
    assert page.inner_text(title) == "Move 2 posts later by 1 day"

    # Undo from the keyboard: Tab from the heading reaches it (past Close); focus moves to
    # the undo's own results.
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    assert focused(page, "#bulk-panel [data-bulk-undo]")
    page.keyboard.press("Enter")
    page.locator("#bulk-panel .bulk-title >> text=Undo: Move 2 posts later by 1 day").wait_for()
    page.locator("#bulk-panel >> text=Finished: 2 done.").wait_for()
    assert focused(page, title)
    shown(page, title, under="#bulk-form")
    for slot in slots[-2:]:
        slot.refresh_from_db()
        assert slot.scheduled_for.astimezone(BERLIN).date() == thursday

    # Close takes the results away and leaves focus in the bar.
    page.click("#bulk-panel [data-bulk-close]")
    assert page.locator("#bulk-panel .bulk-run").count() == 0
    assert focused(page, "#bulk-form button")

    # A run too big to finish at once goes on in a task: its state is polled under the
    # heading, which keeps focus, and its status line says when it is done.
    page.click("[data-bulk-all]")
    page.click("#bulk-form button[value=move]")
    page.locator("#bulk-panel >> text=Working:").wait_for()
    assert focused(page, title)
    page.locator("#bulk-panel [role=status]:has-text('Finished: 25 done.')").wait_for(
        state="attached"
    )
    assert focused(page, title)
    assert page.inner_text("#bulk-panel [role=status]") == (
        "Move 25 posts later by 1 day: Finished: 25 done."
    )


def test_select_mode_keeps_its_bar_at_the_bottom_of_the_window_on_month_and_week(
    journey, time_machine
):
    # After a tick the bar ("1 selected ...") sat under the grid, below the fold.
    wednesday = next_wednesday()
    time_machine.move_to(wednesday, tick=True)
    thursday = wednesday.date() + timedelta(days=1)
    first, second = plan(journey.team, local(thursday, 10)), plan(journey.team, local(thursday, 14))
    page = journey.page_for(journey.team.editor)
    page.set_viewport_size({"width": 1366, "height": 900})
    for view in (f"{thursday.year}/{thursday.month}", f"week/{thursday}"):
        page.goto(f"{journey.url}/calendar/{view}/")
        page.click("[data-bulk-select-mode]")
        page.locator("#bulk-dock #bulk-form").wait_for()
        page.click(f"#slot-{first.public_id}")
        page.locator("[data-bulk-count]:text-is('1 selected')").wait_for()
        shown(page, "#bulk-form")
        bar = page.locator("#bulk-form").bounding_box()
        assert bar["y"] + bar["height"] > 900 - 40  # at the bottom of the window
        # The grid scrolls under it, and at the end of the page the bar rests below the grid.
        page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
        grid = page.locator("#calendar").bounding_box()
        assert page.locator("#bulk-form").bounding_box()["y"] >= grid["y"] + grid["height"]
        page.click("[data-bulk-select-mode]")  # leaves select mode; the next view starts over

    # An action from the bar shows its results with it, in view, focus on their heading.
    page.evaluate("window.scrollTo(0, 0)")
    page.click("[data-bulk-select-mode]")
    page.click(f"#slot-{first.public_id}")
    page.click(f"#slot-{second.public_id}")
    page.click("#bulk-form button[value=delete]")
    page.locator("#bulk-panel >> text=Finished: 2 done.").wait_for()
    shown(page, "#bulk-panel [data-bulk-undo]")
    assert focused(page, "#bulk-panel .bulk-title")
    page.click("#bulk-panel [data-bulk-undo]")
    page.locator(f"#slot-{first.public_id}").wait_for()
    # The card can come back with the live poll before the undo's answer is in; a Close
    # before that answer would be undone by its results arriving after it.
    undo_run(page).get_by_text("Finished: 2 done.").wait_for()
    page.click("#bulk-panel [data-bulk-close]")
    assert page.locator("#bulk-panel .bulk-run").count() == 0
