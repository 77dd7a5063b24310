"""The ideas board's rules (#26): who may add, edit and dismiss; transitions that race;
planning an idea through the planning rules (a past day refused with the form's sentence,
the queue), one idea feeding several posts; Scripe's suggestions kept once and taken once."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from calendar_app.access import viewer_of
from calendar_app.core.refusals import Refusal
from calendar_app.ideas import services
from calendar_app.models import (
    Idea,
    IdeaState,
    IllegalTransition,
    Label,
    PlannedSlot,
    QueueEntry,
    ScheduleTime,
)
from scripe_integration.contract import Post

# Thursday 15 October 2026, 12:00 in Berlin.
NOW = datetime(2026, 10, 15, 10, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _now(time_machine):
    time_machine.move_to(NOW, tick=False)


def add(team, user=None, **fields):
    fields.setdefault("text", "Why we stopped posting daily")
    fields.setdefault("project", team.project)
    return services.idea_create(
        viewer=viewer_of(user or team.editor), workspace=team.workspace, **fields
    )


def suggestion(post_id="post_sugg000000000001", *, status="suggested", title="A myth"):
    return Post(
        id=post_id,
        status=status,
        title=title,
        content="Posting daily is not the only way.",
        project_id="proj_01JSANDBOXPROJ000000000001",
        content_type="PERSONAL",
        scheduled_at=None,
        created_at=NOW,
        updated_at=NOW,
    )


# adding and editing ----------------------------------------------------------------------------


def test_an_editor_adds_an_idea_with_a_link_labels_and_themselves_as_owner(team):
    label = Label.objects.create(workspace=team.workspace, name="Launch")
    idea = add(team, link="https://example.com/article", labels=[label])
    assert idea.state == IdeaState.NEW
    assert idea.owner == team.editor
    assert list(idea.labels.all()) == [label]
    assert idea.note_text() == "Why we stopped posting daily\n\nhttps://example.com/article"


def test_it_refuses_an_idea_without_text_or_link_and_a_link_that_is_no_web_address(team):
    with pytest.raises(Refusal) as refused:
        add(team, text="  ", link="")
    assert refused.value.fields == {"text": "Write the idea, or give a link to what it is about."}
    with pytest.raises(Refusal) as refused:
        add(team, text="x", link="javascript:alert(1)")
    assert "link" in refused.value.fields
    assert Idea.objects.count() == 0


def test_it_refuses_another_workspaces_project_or_labels(team):
    foreign = Label.objects.create(workspace=team.other_workspace, name="Theirs")
    with pytest.raises(Refusal) as refused:
        add(team, project=team.foreign_project, labels=[foreign])
    assert set(refused.value.fields) == {"project", "labels"}


def test_someone_outside_the_workspace_adds_nothing(team):
    with pytest.raises(Refusal) as refused:
        add(team, user=team.outsider)
    assert refused.value.status == 403


def test_an_edit_keeps_the_posts_already_made_from_the_idea(team):
    idea = add(team)
    slot = services.idea_plan(viewer=viewer_of(team.editor), idea=idea, day=date(2026, 10, 20))
    services.idea_update(
        viewer=viewer_of(team.editor), idea=idea, text="Rewritten", project=team.project
    )
    slot.note.refresh_from_db()
    assert slot.note.text == "Why we stopped posting daily"
    assert Idea.objects.get(pk=idea.pk).text == "Rewritten"


# states ----------------------------------------------------------------------------------------


def test_only_a_manager_dismisses_and_restores(team):
    idea = add(team)
    with pytest.raises(Refusal) as refused:
        services.idea_dismiss(viewer=viewer_of(team.editor), idea=idea)
    assert refused.value.status == 403
    services.idea_dismiss(viewer=viewer_of(team.manager), idea=idea)
    assert Idea.objects.get(pk=idea.pk).state == IdeaState.DISMISSED
    services.idea_restore(viewer=viewer_of(team.admin), idea=idea)
    assert Idea.objects.get(pk=idea.pk).state == IdeaState.NEW


def test_a_used_idea_dismissed_and_restored_is_used_again(team):
    idea = add(team)
    services.idea_plan(viewer=viewer_of(team.editor), idea=idea, day=date(2026, 10, 20))
    manager = viewer_of(team.manager)
    services.idea_dismiss(viewer=manager, idea=Idea.objects.get(pk=idea.pk))
    services.idea_restore(viewer=manager, idea=Idea.objects.get(pk=idea.pk))
    assert Idea.objects.get(pk=idea.pk).state == IdeaState.USED


def test_of_two_racing_picks_one_wins_and_the_other_is_told_who(team):
    idea = add(team)
    first, second = Idea.objects.get(pk=idea.pk), Idea.objects.get(pk=idea.pk)
    services.idea_pick(viewer=viewer_of(team.editor), idea=first)
    with pytest.raises(IllegalTransition) as refused:
        services.idea_pick(viewer=viewer_of(team.manager), idea=second)
    assert "Erin marked this idea picked" in refused.value.message
    assert second.state == IdeaState.PICKED  # it now shows the truth


def test_a_plan_racing_a_dismissal_leaves_no_post(team):
    idea = add(team)
    stale = Idea.objects.get(pk=idea.pk)
    services.idea_dismiss(viewer=viewer_of(team.manager), idea=idea)
    with pytest.raises(IllegalTransition):
        services.idea_plan(viewer=viewer_of(team.editor), idea=stale, day=date(2026, 10, 20))
    assert PlannedSlot.objects.count() == 0


# planning --------------------------------------------------------------------------------------


def test_a_drop_on_a_day_plans_a_post_carrying_the_idea_and_marks_it_used(team):
    label = Label.objects.create(workspace=team.workspace, name="Launch")
    idea = add(team, labels=[label])
    slot = services.idea_plan(viewer=viewer_of(team.editor), idea=idea, day=date(2026, 10, 20))
    slot = PlannedSlot.objects.get(pk=slot.pk)
    assert slot.idea == idea and slot.project == team.project
    assert slot.note.text == "Why we stopped posting daily"
    assert list(slot.labels.all()) == [label]
    # Dropped on a day without an hour: 09:00 in the viewer's zone (Berlin).
    assert slot.scheduled_for == datetime(2026, 10, 20, 7, 0, tzinfo=UTC)
    assert Idea.objects.get(pk=idea.pk).state == IdeaState.USED


def test_one_idea_feeds_two_posts(team):
    idea = add(team)
    editor = viewer_of(team.editor)
    first = services.idea_plan(viewer=editor, idea=idea, day=date(2026, 10, 20))
    second = services.idea_plan(
        viewer=editor, idea=Idea.objects.get(pk=idea.pk), day=date(2026, 10, 22), clock=time(14)
    )
    assert first.pk != second.pk
    assert set(idea.slots.values_list("pk", flat=True)) == {first.pk, second.pk}


def test_a_past_day_is_refused_with_the_forms_sentence_and_nothing_changes(team):
    idea = add(team)
    with pytest.raises(Refusal) as refused:
        services.idea_plan(viewer=viewer_of(team.editor), idea=idea, day=date(2026, 10, 14))
    assert refused.value.fields == {"time": "14 Oct 2026 has passed. Pick today or a later day."}
    assert PlannedSlot.objects.count() == 0
    assert Idea.objects.get(pk=idea.pk).state == IdeaState.NEW


def test_an_idea_without_a_project_asks_for_one_before_it_is_planned(team):
    idea = add(team, project=None)
    with pytest.raises(Refusal) as refused:
        services.idea_plan(viewer=viewer_of(team.editor), idea=idea, day=date(2026, 10, 20))
    assert refused.value.fields == {"project": "Give the idea a project before planning it."}


def test_the_same_request_twice_plans_one_post(team):
    idea = add(team)
    key = "a" * 32
    for _ in range(2):
        services.idea_plan(
            viewer=viewer_of(team.editor), idea=idea, day=date(2026, 10, 20), request_key=key
        )
    assert PlannedSlot.objects.count() == 1


def test_add_to_queue_takes_the_projects_next_free_schedule_time(team):
    ScheduleTime.objects.create(project=team.project, weekday=1, time=time(8, 30))  # Tuesdays
    idea = add(team)
    queued = services.idea_queue(viewer=viewer_of(team.editor), idea=idea)
    assert queued.slot.scheduled_for == datetime(2026, 10, 20, 6, 30, tzinfo=UTC)
    assert QueueEntry.objects.filter(slot=queued.slot).exists()
    assert PlannedSlot.objects.get(pk=queued.slot.pk).idea == idea


def test_a_queue_without_a_schedule_refuses_with_the_queues_sentence(team):
    idea = add(team)
    with pytest.raises(Refusal) as refused:
        services.idea_queue(viewer=viewer_of(team.editor), idea=idea)
    assert "has no posting schedule yet" in refused.value.message
    assert Idea.objects.get(pk=idea.pk).state == IdeaState.NEW


def test_an_idea_is_not_queued_on_another_workspaces_project(team):
    idea = add(team)
    with pytest.raises(Refusal):
        services.idea_queue(viewer=viewer_of(team.editor), idea=idea, project=team.foreign_project)


# Scripe's suggestions --------------------------------------------------------------------------


def test_suggestions_are_kept_once_and_a_dismissed_one_stays_hidden(team):
    assert (
        services.suggestions_record(
            project=team.project, posts=[suggestion(), suggestion(status="draft")], complete=True
        )
        == 1
    )
    idea = Idea.objects.get()
    assert idea.is_suggestion and idea.owner is None and idea.title == "A myth"
    services.idea_dismiss(viewer=viewer_of(team.manager), idea=idea)
    assert (
        services.suggestions_record(project=team.project, posts=[suggestion()], complete=True) == 0
    )
    assert Idea.objects.get().state == IdeaState.DISMISSED


def test_a_suggestion_gone_from_scripe_leaves_the_board_unless_it_was_acted_on(team):
    services.suggestions_record(
        project=team.project,
        posts=[suggestion("post_sugg000000000001"), suggestion("post_sugg000000000002")],
        complete=True,
    )
    taken = Idea.objects.get(scripe_post_id="post_sugg000000000002")
    services.idea_plan(viewer=viewer_of(team.editor), idea=taken, day=date(2026, 10, 20))
    services.suggestions_record(project=team.project, posts=[], complete=False)
    assert Idea.objects.count() == 2  # a partial listing judges nothing gone
    services.suggestions_record(project=team.project, posts=[], complete=True)
    assert list(Idea.objects.values_list("scripe_post_id", flat=True)) == ["post_sugg000000000002"]


def test_a_suggestion_is_taken_once_however_often_it_is_dropped(team):
    services.suggestions_record(project=team.project, posts=[suggestion()], complete=True)
    idea = Idea.objects.get()
    editor = viewer_of(team.editor)
    first = services.idea_plan(viewer=editor, idea=idea, day=date(2026, 10, 20))
    again = services.idea_plan(
        viewer=editor, idea=Idea.objects.get(pk=idea.pk), day=date(2026, 10, 21)
    )
    queued = services.idea_queue(viewer=editor, idea=Idea.objects.get(pk=idea.pk))
    assert first.pk == again.pk == queued.slot.pk
    assert PlannedSlot.objects.count() == 1
    assert first.note.text == "A myth\n\nPosting daily is not the only way."
