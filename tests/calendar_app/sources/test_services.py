"""Sources' rules (#26): the file type and size rule, and hooks becoming queued posts once,
through the queue's planning rules, whose generation carries the hook and the source."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from calendar_app.access import viewer_of
from calendar_app.core.refusals import Refusal
from calendar_app.ideas.services import idea_plan
from calendar_app.models import HookPlan, Idea, PlannedSlot, QueueEntry
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


# hooks on the ideas board ----------------------------------------------------------------------


def _board(team, source, hook_ids):
    return services.hooks_to_board(user=team.editor, source=source, hook_ids=hook_ids)


def test_ticked_hooks_go_on_the_ideas_board_once(team):
    source = ready_source(team)
    first = _board(team, source, ["hk_a", "hk_c"])
    assert len(first.added) == 2
    ideas = Idea.objects.filter(source=source).order_by("hook_id")
    assert [(i.hook_id, i.text, i.project_id, i.state) for i in ideas] == [
        ("hk_a", "I used to plan posts the day they were due.", team.project.pk, "new"),
        ("hk_c", "Three hires found us through one post.", team.project.pk, "new"),
    ]
    again = _board(team, source, ["hk_a", "hk_b"])
    assert (len(again.added), again.on_board, again.planned) == (1, 1, 0)
    assert Idea.objects.filter(source=source).count() == 3


def test_a_hook_already_a_post_is_not_put_on_the_board(team, scheduled_project):
    source = ready_source(team)
    services.hooks_plan(user=team.editor, source=source, hook_ids=["hk_a"])
    outcome = _board(team, source, ["hk_a"])
    assert (outcome.added, outcome.planned) == ([], 1)
    assert not Idea.objects.exists()


def test_a_hook_idea_dropped_on_a_day_is_that_hooks_one_post_with_its_steering(team, wired):
    source = ready_source(team)
    [idea] = _board(team, source, ["hk_a"]).added
    idea = Idea.objects.select_related("source", "workspace", "project").get(pk=idea.pk)
    viewer = viewer_of(team.editor)
    day = (datetime.now(UTC) + timedelta(days=3)).astimezone(viewer.zone).date()
    slot = idea_plan(viewer=viewer, idea=idea, day=day)
    plan = HookPlan.objects.get()
    assert (plan.source, plan.hook_id, plan.slot) == (source, "hk_a", slot)
    assert slot.note.text == "I used to plan posts the day they were due."
    # One hook, one post: the idea (now used) is not planned again, nor the hook to the queue.
    with pytest.raises(Refusal) as refused:
        idea_plan(viewer=viewer, idea=Idea.objects.get(pk=idea.pk), day=day)
    assert "one hook makes one post" in refused.value.message
    assert PlannedSlot.objects.count() == 1
    [outcome] = services.hooks_plan(user=team.editor, source=source, hook_ids=["hk_a"])
    assert (outcome.planned, outcome.slot) == (False, slot)
    generation_finish(generation_request(slot=slot).pk)
    job = next(iter(wired.sandbox.state.jobs.values()))
    assert "founder-memo.wav" in job.source_text
    assert "Topic: Planning content ahead" in job.source_text


def test_a_hook_planned_to_the_queue_marks_its_board_idea_used(team, scheduled_project):
    source = ready_source(team)
    [idea] = _board(team, source, ["hk_b"]).added
    [outcome] = services.hooks_plan(user=team.editor, source=source, hook_ids=["hk_b"])
    idea.refresh_from_db()
    assert idea.state == "used"
    assert PlannedSlot.objects.get(pk=outcome.slot.pk).idea == idea
