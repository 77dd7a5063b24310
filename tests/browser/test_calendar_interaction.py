"""The calendar in Chromium, by keyboard and by pointer: cards reached with Tab and opened
with Enter, an empty hour of the week that plans a post, and swaps after a resized field or
a drag that the Content-Security-Policy has nothing to say about."""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from calendar_app.models import PlannedSlot, Project, SourceNote
from tests.browser.conftest import next_wednesday

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
BERLIN = ZoneInfo("Europe/Berlin")


def plan(team, when, text="An idea for the week.") -> PlannedSlot:
    project = Project.objects.get(workspace=team.workspace, name="Lena Fischer")
    note = SourceNote.objects.create(workspace=team.workspace, text=text, author=team.editor)
    return PlannedSlot.objects.create(
        workspace=team.workspace, project=project, note=note, scheduled_for=when,
        created_by=team.editor,
    )  # fmt: skip


def local(day: date, hour: int, minute: int = 0):
    return timezone.make_aware(
        timezone.datetime(day.year, day.month, day.day, hour, minute), BERLIN
    )


def test_a_resized_note_and_dragged_cards_swap_without_a_policy_error(journey, time_machine):
    # htmx's settle step copied an old element's `style` attribute onto the one swapped in:
    # a style attribute the CSP (style-src 'self') refuses, logged as a console error.
    wednesday = next_wednesday()
    time_machine.move_to(wednesday, tick=True)
    thursday = wednesday.date() + timedelta(days=1)
    slot = plan(journey.team, local(thursday, 11, 15))
    page = journey.page_for(journey.team.editor)
    page.goto(f"{journey.url}/calendar/{thursday.year}/{thursday.month}/")
    page.click("a.button-primary:has-text('New post')")
    note = page.locator("dialog[open] #id_note_text")
    note.fill("A thought worth keeping.")
    # Resize the note by its corner, as a person does: the browser sets its height inline.
    box = note.bounding_box()
    page.mouse.move(box["x"] + box["width"] - 3, box["y"] + box["height"] - 3)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] - 3, box["y"] + box["height"] + 120, steps=5)
    page.mouse.up()
    assert "height" in (note.get_attribute("style") or "")
    taller = note.bounding_box()["height"]
    assert taller > box["height"] + 100
    page.click("dialog button:has-text('Plan post')")  # no project, no day: refused
    page.locator("dialog .field-error:has-text('Choose a project.')").wait_for()
    # What was typed stays, and so does the size it was given.
    assert note.input_value() == "A thought worth keeping."
    assert note.bounding_box()["height"] == taller
    page.keyboard.press("Escape")
    page.wait_for_selector("dialog[open]", state="detached")

    # Dragging swaps the calendar too: nothing of ours writes a style during a drag.
    card = f"#slot-{slot.public_id}"
    friday = thursday + timedelta(days=1)
    page.drag_and_drop(card, f".day[data-date='{friday}']")
    page.locator(f".day[data-date='{friday}'] {card}").wait_for()
    page.goto(f"{journey.url}/calendar/week/{friday}/")
    page.drag_and_drop(card, f".hour-cell[data-date='{friday}'][data-hour='14']")
    page.locator(f".hour-cell[data-date='{friday}'][data-hour='14'] {card}").wait_for()
    assert page.locator("#calendar [style]").count() == 0
    slot.refresh_from_db()
    assert slot.scheduled_for.astimezone(BERLIN).date() == friday
    assert slot.scheduled_for.astimezone(BERLIN).hour == 14


def tab_to(page, selector: str, limit: int) -> int:
    """Presses Tab until the focused element matches `selector`; how many presses it took."""
    for presses in range(1, limit + 1):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement.matches(s)", selector):
            return presses
    raise AssertionError(f"{limit} presses of Tab never reached {selector}")


def ring(page, card: str) -> str:
    return page.eval_on_selector(card, "c => getComputedStyle(c).outlineStyle")


def test_each_card_is_reached_with_tab_and_opened_with_enter(journey, time_machine):
    # A card's link had `display: contents`, which Chromium never focuses: Tab went past
    # every card of the month, the week and the day.
    wednesday = next_wednesday()
    time_machine.move_to(wednesday, tick=True)
    thursday = wednesday.date() + timedelta(days=1)
    slot = plan(journey.team, local(thursday, 11, 15), text="Our hiring story.")
    card = f"#slot-{slot.public_id}"
    link = f"{card} .slot-open"
    page = journey.page_for(journey.team.editor)
    page.goto(f"{journey.url}/calendar/{thursday.year}/{thursday.month}/")
    assert ring(page, card) == "none"
    tab_to(page, link, limit=80)
    assert ring(page, card) == "solid"  # the whole card shows where focus is
    # The card still reads as before: time and project on one line, the note below.
    time_box, project_box, text_box = (
        page.locator(f"{card} {part}").bounding_box()
        for part in (".slot-time", ".slot-project", ".slot-text")
    )
    assert time_box["y"] == project_box["y"] and text_box["y"] > time_box["y"]
    assert project_box["x"] > time_box["x"] + time_box["width"]
    page.keyboard.press("Enter")
    page.locator("dialog[open] #dialog-title:has-text('Lena Fischer')").wait_for()
    page.locator("dialog[open] >> text=Our hiring story.").wait_for()
    page.keyboard.press("Escape")
    page.wait_for_selector("dialog[open]", state="detached")
    assert page.evaluate("s => document.activeElement.matches(s)", link)  # back on the card
    # Someone changes the post: the live poll swaps in the card's new copy, focus stays on it.
    PlannedSlot.objects.filter(pk=slot.pk).update(status="in_review", updated_at=timezone.now())
    page.locator(f"{card} .badge:text-is('Ready for review')").wait_for()
    assert page.evaluate("s => document.activeElement.matches(s)", link)

    # Select mode: Enter ticks the card, as a click does, and opens nothing.
    page.click("[data-bulk-select-mode]")
    page.locator("#bulk-dock #bulk-form").wait_for()
    page.focus(link)
    page.keyboard.press("Enter")
    page.locator("[data-bulk-count]:text-is('1 selected')").wait_for()
    assert page.is_checked(f"{card} [data-bulk-check]")
    assert not page.locator("dialog[open]").count()
    check = page.locator(f"{card} [data-bulk-check]").bounding_box()
    card_box = page.locator(card).bounding_box()
    assert check["x"] + check["width"] <= card_box["x"] + card_box["width"]
    assert check["y"] >= card_box["y"]
    page.click("[data-bulk-select-mode]")

    for view in (f"week/{thursday}", f"day/{thursday}"):
        page.goto(f"{journey.url}/calendar/{view}/")
        tab_to(page, link, limit=150)
        assert ring(page, card) == "solid"
        page.keyboard.press("Enter")
        page.locator("dialog[open] >> text=Our hiring story.").wait_for()
        page.keyboard.press("Escape")
        page.wait_for_selector("dialog[open]", state="detached")


def test_a_click_on_an_empty_hour_of_the_week_plans_a_post_at_that_hour(journey, time_machine):
    # The week said "click an empty hour to plan a post", but only the small + in the hour's
    # corner (shown on hover) did.
    wednesday = next_wednesday()
    time_machine.move_to(wednesday, tick=True)
    thursday = wednesday.date() + timedelta(days=1)
    slot = plan(journey.team, local(thursday, 11, 15), text="Our hiring story.")
    page = journey.page_for(journey.team.editor)
    page.goto(f"{journey.url}/calendar/week/{thursday}/")
    hour = f".hour-cell[data-date='{thursday}'][data-hour='15']"
    assert page.eval_on_selector(hour, "c => getComputedStyle(c).cursor") == "pointer"
    page.click(hour, position={"x": 8, "y": 30})  # its lower left, far from the +
    page.wait_for_selector("dialog[open] #slot-form")
    assert page.input_value("#id_date") == str(thursday)
    assert page.input_value("#id_time") == "15:00"
    page.keyboard.press("Escape")
    page.wait_for_selector("dialog[open]", state="detached")

    # A click on a card in an hour opens that post, not a new one.
    page.click(f"#slot-{slot.public_id} .slot-text")
    page.locator("dialog[open] >> text=Our hiring story.").wait_for()
    assert not page.locator("dialog #slot-form").count()
    page.keyboard.press("Escape")
    page.wait_for_selector("dialog[open]", state="detached")

    # By keyboard, the hour's + is a control of its own that shows when focused (it was
    # `visibility: hidden` until pointed at, which Tab skips). The week's "+" are one Tab stop
    # (#30): Tab reaches the first, the arrow keys go an hour (up, down) or a day (left, right).
    plus = f".hour-cell[data-date='{thursday}'][data-hour='16'] .hour-add"
    assert page.eval_on_selector(plus, "p => getComputedStyle(p).opacity") == "0"
    tab_to(page, ".week-grid .hour-add", limit=80)
    for _ in range(40):
        date, hour = page.evaluate(
            "() => { const c = document.activeElement.closest('.hour-cell');"
            " return [c.dataset.date, Number(c.dataset.hour)]; }"
        )
        if (date, hour) == (str(thursday), 16):
            break
        if hour != 16:
            page.keyboard.press("ArrowDown" if hour < 16 else "ArrowUp")
        else:
            page.keyboard.press("ArrowRight" if date < str(thursday) else "ArrowLeft")
    assert page.evaluate("s => document.activeElement.matches(s)", plus)
    assert page.eval_on_selector(plus, "p => getComputedStyle(p).opacity") == "1"
    page.keyboard.press("Enter")
    page.wait_for_selector("dialog[open] #slot-form")
    assert page.input_value("#id_time") == "16:00"
    page.keyboard.press("Escape")

    # An hour already past offers nothing to plan.
    past = f".hour-cell[data-date='{wednesday.date() - timedelta(days=1)}'][data-hour='15']"
    assert page.eval_on_selector(past, "c => getComputedStyle(c).cursor") != "pointer"
    assert not page.locator(f"{past} .hour-add").count()
