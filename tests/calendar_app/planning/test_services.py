"""The slot services as every way in (forms, drag and drop, CSV rows, bulk actions) meets them:
one Refusal naming each field at fault, and nothing saved when refused."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from calendar_app.core.refusals import Refusal
from calendar_app.models import PlannedSlot, SourceNote
from calendar_app.planning import services

NOW = datetime(2026, 10, 15, 10, 0, tzinfo=UTC)
BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture(autouse=True)
def _now(time_machine):
    time_machine.move_to(NOW, tick=False)


def plan(team, **overrides) -> dict:
    return {
        "project": team.project,
        "note_text": "Fewer meetings.",
        "note": None,
        "language": "en",
        "day": date(2026, 10, 20),
        "clock": time(9, 30),
        **overrides,
    }


def refusal_of(call) -> Refusal:
    with pytest.raises(Refusal) as caught:
        call()
    return caught.value


def test_create_plans_a_slot_at_the_local_time(team):
    slot = services.slot_create(user=team.editor, zone=BERLIN, **plan(team))
    assert slot.scheduled_for == datetime(2026, 10, 20, 7, 30, tzinfo=UTC)
    assert (slot.note.text, slot.status) == ("Fewer meetings.", "draft")


def test_create_names_every_field_at_fault_at_once_and_saves_nothing(team):
    refusal = refusal_of(
        lambda: services.slot_create(
            user=team.editor,
            zone=BERLIN,
            **plan(team, project=team.paused, note_text=" ", language="xx", day=None),
        )
    )
    assert (refusal.status, set(refusal.fields)) == (
        422,
        {"project", "note_text", "language", "date"},
    )
    assert refusal.fields["project"].startswith("This project is paused in Scripe")
    assert not PlannedSlot.objects.exists() and not SourceNote.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        ({"note_text": "x" * 100_002}, "note_text", "Shorten it by 2 characters."),
        ({"note_text": "a\x00b"}, "note_text", "NUL character"),
        ({"day": date(2027, 3, 28), "clock": time(2, 30)}, "time", "does not exist on 28 Mar 2027"),
        ({"day": date(2026, 10, 15), "clock": time(9, 0)}, "time", "That time has passed."),
        ({"day": date(2026, 10, 15), "clock": time(10, 0)}, "time", "at least 5 minutes"),
        ({"day": date(2028, 6, 1)}, "time", "within the next 18 months"),
        ({"clock": time(9, 31)}, "time", "15-minute step"),
    ],
)
def test_create_refuses_what_the_rules_refuse(team, overrides, field, words):
    refusal = refusal_of(
        lambda: services.slot_create(user=team.editor, zone=BERLIN, **plan(team, **overrides))
    )
    assert words in refusal.fields[field]
    assert not PlannedSlot.objects.exists()


def test_a_note_of_another_workspace_is_refused(team):
    foreign = SourceNote.objects.create(workspace=team.other_workspace, text="Theirs.")
    refusal = refusal_of(
        lambda: services.slot_create(
            user=team.editor, zone=BERLIN, **plan(team, note_text="", note=foreign)
        )
    )
    assert refusal.fields == {"existing_note": "That note belongs to another workspace."}


def test_update_of_a_slot_that_stopped_being_editable_is_stale(team):
    slot = team.slot(datetime(2026, 10, 20, 7, 0, tzinfo=UTC))
    PlannedSlot.objects.filter(pk=slot.pk).update(status="queued")  # someone pressed Generate
    refusal = refusal_of(
        lambda: services.slot_update(slot=slot, user=team.editor, zone=BERLIN, **plan(team))
    )
    assert (refusal.status, refusal.stale) == (409, True)
    slot.refresh_from_db()
    assert slot.scheduled_for == datetime(2026, 10, 20, 7, 0, tzinfo=UTC)


def test_update_cannot_take_another_workspaces_project(team):
    slot = team.slot(datetime(2026, 10, 20, 7, 0, tzinfo=UTC))
    refusal = refusal_of(
        lambda: services.slot_update(
            slot=slot, user=team.editor, zone=BERLIN, **plan(team, project=team.foreign_project)
        )
    )
    assert refusal.fields == {"project": "A post cannot move to another workspace's project."}


def test_move_into_the_night_the_clocks_go_forward_is_refused_in_words(team):
    slot = team.slot(datetime(2026, 10, 20, 0, 30, tzinfo=UTC))  # 02:30 in Berlin
    refusal = refusal_of(lambda: services.slot_move(slot=slot, day=date(2027, 3, 28), zone=BERLIN))
    assert refusal.message.startswith("Cannot move it to Sun 28 Mar: 02:30 does not exist")
    slot.refresh_from_db()
    assert slot.scheduled_for == datetime(2026, 10, 20, 0, 30, tzinfo=UTC)
