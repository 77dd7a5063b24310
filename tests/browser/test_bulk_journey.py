"""Bulk actions (#16) in Chromium: ticking rows with shift-click, moving them and undoing the
move, and the calendar's select mode with a bulk delete and its Undo."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

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
    assert page.is_checked(box.format(slots[0].public_id))

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
    page.locator("#bulk-panel >> text=Finished: 2 done.").wait_for()
    page.locator(f"#slot-{first.public_id}").wait_for()
    assert PlannedSlot.objects.alive().count() == 2
