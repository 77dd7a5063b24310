"""Sources' rules (#26): the file type and size rule, and hooks becoming queued posts once,
through the queue's planning rules, whose generation carries the hook and the source."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from calendar_app.core.refusals import Refusal
from calendar_app.models import HookPlan, PlannedSlot, QueueEntry
from calendar_app.pipeline.generation import generation_request
from calendar_app.sources import services
from tests.calendar_app.sources.conftest import ready_source
from tests.support import generation_finish

MB = 1024 * 1024
NOW = datetime(2026, 10, 15, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("name", "size", "expected"),
    [
        ("memo.MP3", 499 * MB, "audio/mpeg"),
        ("talk.mp4", 500 * MB, "video/mp4"),
        ("deck.pdf", 100 * MB, "application/pdf"),
        ("plan.docx", 1, "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        ("notes.txt", 10, "text/plain"),
    ],
)
def test_it_takes_the_types_scripe_takes_up_to_their_caps(name, size, expected):
    assert services.file_type_check(name, size) == expected


def test_it_refuses_a_wrong_type_with_a_sentence_on_the_file_field():
    with pytest.raises(Refusal) as refused:
        services.file_type_check("archive.zip", 10)
    assert "Scripe takes audio or video" in refused.value.fields["file"]


@pytest.mark.parametrize(("name", "size"), [("memo.wav", 500 * MB + 1), ("deck.pdf", 101 * MB)])
def test_it_refuses_an_oversized_file_saying_the_cap(name, size):
    with pytest.raises(Refusal) as refused:
        services.file_type_check(name, size)
    assert "of at most" in refused.value.fields["file"]


def test_ticked_hooks_become_posts_at_the_next_queue_times(team, scheduled_project, time_machine):
    time_machine.move_to(NOW, tick=False)
    source = ready_source(team)
    outcomes = services.hooks_plan(user=team.editor, source=source, hook_ids=["hk_a", "hk_c"])
    assert [o.planned for o in outcomes] == [True, True]
    slots = sorted((o.slot for o in outcomes), key=lambda s: s.scheduled_for)
    zone = team.workspace.zone
    assert [f"{s.scheduled_for.astimezone(zone):%d %H:%M}" for s in slots] == [
        "16 09:00",
        "17 09:00",
    ]
    assert slots[0].note.text == "I used to plan posts the day they were due."
    assert QueueEntry.objects.filter(slot__in=slots).count() == 2
    assert HookPlan.objects.filter(source=source).count() == 2


def test_choosing_the_same_hooks_again_plans_nothing_twice(team, scheduled_project):
    source = ready_source(team)
    first = services.hooks_plan(user=team.editor, source=source, hook_ids=["hk_a", "hk_b"])
    again = services.hooks_plan(user=team.manager, source=source, hook_ids=["hk_a", "hk_b", "hk_c"])
    assert [o.planned for o in again] == [False, False, True]
    assert again[0].slot == first[0].slot
    assert PlannedSlot.objects.count() == 3


def test_hooks_refuse_a_source_not_ready_or_a_hook_not_its_own(team, scheduled_project):
    source = ready_source(team)
    with pytest.raises(Refusal) as unknown:
        services.hooks_plan(user=team.editor, source=source, hook_ids=["hk_zzz"])
    assert "hooks" in unknown.value.fields
    with pytest.raises(Refusal):
        services.hooks_plan(user=team.editor, source=source, hook_ids=[])
    source.status = "ingesting"
    with pytest.raises(Refusal):
        services.hooks_plan(user=team.editor, source=source, hook_ids=["hk_a"])
    assert not PlannedSlot.objects.exists()


def test_hooks_go_through_the_planning_rules(team):
    # No posting schedule: the queue's own refusal, nothing planned.
    source = ready_source(team)
    with pytest.raises(Refusal):
        services.hooks_plan(user=team.editor, source=source, hook_ids=["hk_a"])
    assert not PlannedSlot.objects.exists() and not HookPlan.objects.exists()


def test_the_generation_request_carries_the_hook_and_the_source(team, scheduled_project, wired):
    source = ready_source(team)
    [outcome] = services.hooks_plan(user=team.editor, source=source, hook_ids=["hk_a"])
    generation_finish(generation_request(slot=outcome.slot).pk)
    job = next(iter(wired.sandbox.state.jobs.values()))
    assert job.source_text.startswith("I used to plan posts the day they were due.")
    assert "founder-memo.wav" in job.source_text and "src_01READY" in job.source_text
    assert "Topic: Planning content ahead: Why a planned week beats a scramble." in job.source_text
    assert "Plan on Fridays." in job.source_text
