"""Bulk actions (#16): a selection is N single actions through the same services, each slot's
result recorded (done, refused with the reason, failed), nothing half-done on a slot; roles
and outsiders; "select all matching the filter" resolved on the server; Undo of a bulk
delete; a large run goes through a task with progress; the list's checkboxes cost no query."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from calendar_app.bulk import services as bulk
from calendar_app.models import BulkItem, BulkRun, GenerationJob, Label, PlannedSlot
from calendar_app.planning import services
from calendar_app.planning.labels import LABELS_PER_SLOT_MAX
from calendar_app.tasks import bulk_run_advance
from scripe_integration.services import connection_for
from tests.support import written_draft

NOW = datetime(2026, 10, 15, 10, 0, tzinfo=UTC)
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def frozen(time_machine):
    time_machine.move_to(NOW, tick=False)
    return time_machine


@pytest.fixture
def queued(monkeypatch):
    """Runs' tasks, captured instead of sent to a cluster: the test runs them."""
    runs: list[int] = []
    monkeypatch.setattr(bulk, "enqueue", runs.append)
    return runs


def login(client, user):
    client.force_login(user)
    return client


def drafts(team, count: int, *, start: datetime = NOW, project=None) -> list[PlannedSlot]:
    return [
        team.slot(start + timedelta(days=2 + n % 20, hours=n // 20), project=project)
        for n in range(count)
    ]


def post(client, action: str, slots=(), **fields):
    data = {"action": action, "slot": [str(s.public_id) for s in slots], **fields}
    return client.post("/bulk/", data, **HTMX)


def outcomes(run: BulkRun) -> dict:
    return {item.slot_id: (item.outcome, item.message) for item in run.items.all()}


# moving -------------------------------------------------------------------------------------------


def test_it_moves_the_ticked_slots_by_a_day_keeping_their_local_time(client, team, frozen):
    slots = drafts(team, 3)
    response = post(login(client, team.editor), "move", slots, days="1")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Finished: 3 done." in html and 'hx-trigger="every 2s"' not in html
    assert "<html" not in html  # the fragment only
    assert "slots-changed" in response["HX-Trigger"]
    for slot in slots:
        before = slot.scheduled_for
        slot.refresh_from_db()
        assert slot.scheduled_for == before + timedelta(days=1)
        assert f'href="/slots/{slot.public_id}/"' in html


def test_moving_to_a_date_keeps_each_ones_local_time_across_dst(client, team, frozen):
    # 09:00 and 17:15 in Berlin (CEST, UTC+2) moved to a day in CET keep 09:00 and 17:15.
    morning = team.slot(datetime(2026, 10, 20, 7, 0, tzinfo=UTC))
    evening = team.slot(datetime(2026, 10, 21, 15, 15, tzinfo=UTC))
    post(login(client, team.editor), "move", [morning, evening], date="2026-11-03")
    morning.refresh_from_db()
    evening.refresh_from_db()
    assert morning.scheduled_for == datetime(2026, 11, 3, 8, 0, tzinfo=UTC)
    assert evening.scheduled_for == datetime(2026, 11, 3, 16, 15, tzinfo=UTC)


def test_mixed_slots_are_each_done_or_refused_with_the_reason(client, team, frozen):
    draft, in_review, failed = drafts(team, 3)
    PlannedSlot.objects.filter(pk=in_review.pk).update(status="in_review")
    PlannedSlot.objects.filter(pk=failed.pk).update(status="failed")
    too_far = team.slot(NOW + timedelta(days=1))
    post(login(client, team.editor), "move", [draft, in_review, failed, too_far], days="-1")
    run = BulkRun.objects.get()
    results = outcomes(run)
    # A day back from tomorrow is now, inside the planning lead: refused in words.
    assert results[too_far.pk][0] == "refused" and "Cannot move it to" in results[too_far.pk][1]
    assert results[in_review.pk] == ("refused", "The draft is waiting for review.")
    assert results[draft.pk][0] == "done" and results[failed.pk][0] == "done"
    in_review.refresh_from_db()
    assert in_review.scheduled_for == NOW + timedelta(days=3)  # untouched
    assert run.finished_at is not None


def test_a_slot_whose_change_breaks_half_way_is_left_whole_and_the_rest_go_on(
    client, team, frozen, monkeypatch
):
    first, broken, last = drafts(team, 3)
    real_record = services.record

    def record(slot, **kwargs):
        if slot.pk == broken.pk:
            raise RuntimeError("the trail's table is gone")
        return real_record(slot, **kwargs)

    monkeypatch.setattr(services, "record", record)
    post(login(client, team.editor), "move", [first, broken, last], days="1")
    results = outcomes(BulkRun.objects.get())
    assert results[broken.pk][0] == "failed"
    assert results[first.pk][0] == results[last.pk][0] == "done"
    broken.refresh_from_db()
    # Its new time was written before the trail failed; the transaction took it back.
    assert broken.scheduled_for == NOW + timedelta(days=3)


# roles and outsiders ------------------------------------------------------------------------------


def test_an_editor_cannot_bulk_approve_or_reject(client, team, frozen):
    slots = drafts(team, 2)
    login(client, team.editor)
    assert post(client, "approve", slots).status_code == 403
    assert post(client, "reject", slots, reason="No.").status_code == 403
    assert not BulkRun.objects.exists()


def test_outsiders_slot_ids_are_never_acted_on(client, team, frozen):
    ours = drafts(team, 2)
    response = post(login(client, team.outsider), "delete", ours)
    assert response.status_code == 422
    assert "Select at least one post." in response.content.decode()
    assert PlannedSlot.objects.alive().count() == 2 and not BulkRun.objects.exists()


def test_foreign_ids_beside_ones_own_are_left_out_of_the_run(client, team, frozen):
    theirs = team.slot(NOW + timedelta(days=4), project=team.foreign_project)
    ours = drafts(team, 1)
    post(login(client, team.editor), "delete", [*ours, theirs], slot_extra="x")
    run = BulkRun.objects.get()
    assert list(run.items.values_list("slot_id", flat=True)) == [ours[0].pk]
    theirs.refresh_from_db()
    assert theirs.deleted_at is None


def test_someone_elses_run_is_404(client, team, frozen):
    post(login(client, team.editor), "delete", drafts(team, 1))
    run = BulkRun.objects.get()
    login(client, team.manager)
    assert client.get(f"/bulk/{run.public_id}/").status_code == 404
    assert client.post(f"/bulk/{run.public_id}/undo/").status_code == 404


def test_a_manager_of_one_workspace_is_refused_per_slot_in_another(client, team, frozen):
    from calendar_app.models import Membership, Role

    Membership.objects.create(user=team.editor, workspace=team.other_workspace, role=Role.MANAGER)
    ours = drafts(team, 1)
    theirs = team.slot(NOW + timedelta(days=4), project=team.foreign_project)
    PlannedSlot.objects.filter(pk__in=[ours[0].pk, theirs.pk]).update(status="in_review")
    post(login(client, team.editor), "reject", [ours[0], theirs], reason="Off topic.")
    results = outcomes(BulkRun.objects.get())
    assert results[ours[0].pk] == ("refused", "Only a manager can reject drafts.")
    assert results[theirs.pk][0] == "refused"  # no draft waiting: not the role that stops it
    assert "no draft waiting" in results[theirs.pk][1]


def test_anonymous_is_sent_to_log_in_and_get_is_not_allowed(client, team):
    assert client.post("/bulk/", {"action": "delete"})["Location"].startswith("/accounts/login/")
    assert login(client, team.editor).get("/bulk/").status_code == 405


def test_bad_input_is_refused_in_words_and_starts_nothing(client, team, frozen):
    slots = drafts(team, 2)
    login(client, team.editor)
    cases = [
        ({"action": "explode"}, "Select a valid choice"),
        ({"action": "move"}, "Move by a number of days, or to a date."),
        ({"action": "move", "days": "0"}, "Move by 1 to 366 days"),
        ({"action": "move", "days": "2", "date": "2026-11-01"}, "Move by a number of days"),
        ({"action": "label_add", "label": "not-a-uuid"}, "Enter a valid UUID."),
        ({"action": "label_add"}, "Pick a label."),
    ]
    for fields, words in cases:
        response = post(client, slots=slots, **fields)
        assert response.status_code == 422, fields
        assert words in response.content.decode(), fields
    login(client, team.manager)
    response = post(client, "reject", slots, reason="  ")
    assert response.status_code == 422
    assert "Give the editors a reason" in response.content.decode()
    assert not BulkRun.objects.exists()


# the other actions --------------------------------------------------------------------------------


def test_labels_are_added_and_removed_through_the_label_rules(client, team, frozen):
    launch = Label.objects.create(workspace=team.workspace, name="Launch")
    plain, full = drafts(team, 2)
    others = [Label.objects.create(workspace=team.workspace, name=f"L{n}") for n in range(10)]
    full.labels.set(others[:LABELS_PER_SLOT_MAX])
    login(client, team.editor)
    post(client, "label_add", [plain, full], label=str(launch.public_id))
    results = outcomes(BulkRun.objects.get())
    assert results[plain.pk] == ("done", "Label 'Launch' added.")
    assert results[full.pk] == ("refused", "A post takes at most 10 labels.")
    assert list(plain.labels.all()) == [launch]
    post(client, "label_remove", [plain], label=str(launch.public_id))
    assert not plain.labels.exists()


def test_a_label_of_another_workspace_is_not_offered_nor_taken(client, team, frozen):
    theirs = Label.objects.create(workspace=team.other_workspace, name="Secret")
    response = post(
        login(client, team.editor), "label_add", drafts(team, 1), label=str(theirs.public_id)
    )
    assert response.status_code == 422 and not BulkRun.objects.exists()
    assert "Secret" not in client.get("/slots/").content.decode()


def test_generate_sends_each_one_through_the_generation_request(client, team, wired):
    draft, in_review = drafts(team, 2, start=datetime.now(UTC))
    PlannedSlot.objects.filter(pk=in_review.pk).update(status="in_review")
    post(login(client, team.editor), "generate", [draft, in_review])
    results = outcomes(BulkRun.objects.get())
    assert results[draft.pk] == ("done", "Sent to Scripe.")
    assert results[in_review.pk][0] == "refused"
    draft.refresh_from_db()
    assert draft.status == "queued" and draft.jobs.count() == 1


def test_a_bulk_generate_past_the_spend_cap_asks_first(client, team, wired):
    """#18: Scripe would answer 402 to what is past its daily cap until 00:00 UTC."""
    type(connection_for(team.workspace)).objects.filter(workspace=team.workspace).update(
        plan="SOLO"  # a cap of 500 cents a day
    )
    spent = team.slot(datetime.now(UTC) + timedelta(days=9))
    GenerationJob.objects.bulk_create(  # 98 generations today: 490 cents
        GenerationJob(
            slot=spent, attempt=n + 1, is_current=False, idempotency_key=f"spent{n}",
            accepted_at=datetime.now(UTC),
        )
        for n in range(98)
    )  # fmt: skip
    three = drafts(team, 3, start=datetime.now(UTC))
    login(client, team.editor)
    response = post(client, "generate", three)
    assert response.status_code == 409 and not BulkRun.objects.exists()
    assert "would use about 15 cents" in response.content.decode()
    assert "about 10 of its Scripe daily spend cap left" in response.content.decode()
    response = post(client, "generate", three, near_cap="1")
    assert response.status_code == 200 and BulkRun.objects.count() == 1


def test_a_bulk_generate_after_a_402_is_refused_in_words(client, team, wired):
    today = f"{datetime.now(UTC):%Y-%m-%d}"
    type(connection_for(team.workspace)).objects.filter(workspace=team.workspace).update(
        spend_cap_meta={"bucketDate": today, "spentCents": 500, "capCents": 500}
    )
    response = post(login(client, team.editor), "generate", drafts(team, 2), near_cap="1")
    assert response.status_code == 409 and not BulkRun.objects.exists()
    assert "It resets at 00:00 UTC" in response.content.decode()


def test_a_manager_approves_drafts_through_scripe_and_the_others_are_refused(client, team, wired):
    ready = written_draft(team, days=3)
    plain = team.slot(datetime.now(UTC) + timedelta(days=4))
    post(login(client, team.manager), "approve", [ready, plain])
    results = outcomes(BulkRun.objects.get())
    assert results[ready.pk] == ("done", "Approved: scheduled in Scripe.")
    assert results[plain.pk][0] == "refused"
    assert "no draft waiting for review" in results[plain.pk][1]
    ready.refresh_from_db()
    plain.refresh_from_db()
    assert (ready.status, plain.status) == ("scheduled", "draft")


def test_moving_a_scheduled_post_asks_scripe_first_and_needs_a_manager(client, team, scheduled):
    before = scheduled.scheduled_for
    post(login(client, team.editor), "move", [scheduled], days="1")
    assert outcomes(BulkRun.objects.get())[scheduled.pk] == (
        "refused",
        "Only a manager can change scheduled posts.",
    )
    post(login(client, team.manager), "move", [scheduled], days="1")
    run = BulkRun.objects.filter(user=team.manager).get()
    assert outcomes(run)[scheduled.pk][0] == "done"
    scheduled.refresh_from_db()
    assert scheduled.scheduled_for == before + timedelta(days=1)
    assert scheduled.status == "scheduled"


def test_reject_gives_each_draft_the_one_reason(client, team, frozen):
    slots = drafts(team, 2)
    PlannedSlot.objects.filter(pk__in=[s.pk for s in slots]).update(status="in_review")
    # A draft needs its written attempt to be rejected; these have none, so both are refused
    # by the review rules, and nothing is rejected.
    post(login(client, team.manager), "reject", slots, reason="Off brand.")
    results = outcomes(BulkRun.objects.get())
    assert {outcome for outcome, _ in results.values()} == {"refused"}


def test_reject_with_real_drafts(client, team, wired):
    first, second = written_draft(team, days=3), written_draft(team, days=4)
    post(login(client, team.manager), "reject", [first, second], reason="Off brand.")
    for slot in (first, second):
        slot.refresh_from_db()
        assert (slot.status, slot.status_note) == ("rejected", "Off brand.")


# delete and undo ----------------------------------------------------------------------------------


def test_undo_brings_back_every_slot_of_a_bulk_delete(client, team, frozen):
    slots = drafts(team, 3)
    PlannedSlot.objects.filter(pk=slots[2].pk).update(status="in_review")
    response = post(login(client, team.editor), "delete", slots)
    assert "Undo delete" in response.content.decode()
    assert PlannedSlot.objects.alive().count() == 1
    run = BulkRun.objects.get()
    frozen.shift(5)
    response = client.post(f"/bulk/{run.public_id}/undo/", **HTMX)
    assert response.status_code == 200
    assert "Finished: 2 done." in response.content.decode()
    assert PlannedSlot.objects.alive().count() == 3
    # Undone once: no second Undo is offered.
    assert "Undo delete" not in client.get(f"/bulk/{run.public_id}/", **HTMX).content.decode()


def test_an_undo_after_the_undo_time_says_so_per_slot(client, team, frozen):
    slots = drafts(team, 2)
    post(login(client, team.editor), "delete", slots)
    run = BulkRun.objects.get()
    frozen.shift(11)
    client.post(f"/bulk/{run.public_id}/undo/", **HTMX)
    undo = BulkRun.objects.get(undoes=run)
    assert {message for _, message in outcomes(undo).values()} == {
        "Too late to undo: the post stays deleted."
    }
    assert PlannedSlot.objects.alive().count() == 0


# undo of a move and of a label change (#24) ----------------------------------------------------


def test_undo_moves_every_slot_of_a_bulk_move_back_and_leaves_one_moved_since(client, team, frozen):
    slots = drafts(team, 3)
    times = [slot.scheduled_for for slot in slots]
    response = post(login(client, team.editor), "move", slots, days="2")
    assert "Undo move" in response.content.decode()
    run = BulkRun.objects.get()
    # Someone else moves the last one meanwhile: their move is not overwritten.
    moved_since = PlannedSlot.objects.get(pk=slots[2].pk)
    services.slot_move(
        slot=moved_since, day=date(2026, 10, 30), zone=team.workspace.zone, user=team.manager
    )
    response = client.post(f"/bulk/{run.public_id}/undo/", **HTMX)
    html = response.content.decode()
    assert "Undo: Move 3 posts later by 2 days" in html and "Finished: 2 done · 1 refused." in html
    assert "slots-changed" in response["HX-Trigger"]
    undo = BulkRun.objects.get(undoes=run)
    assert outcomes(undo)[slots[2].pk] == (
        "refused",
        "It was moved again meanwhile, to Fri 30 Oct, 12:00; left there.",
    )
    assert [PlannedSlot.objects.get(pk=s.pk).scheduled_for for s in slots[:2]] == times[:2]
    assert PlannedSlot.objects.get(pk=slots[2].pk).scheduled_for.date() == date(2026, 10, 30)
    # Undone once: no second Undo is offered, and a second request is refused.
    assert "Undo move" not in client.get(f"/bulk/{run.public_id}/", **HTMX).content.decode()
    assert client.post(f"/bulk/{run.public_id}/undo/", **HTMX).status_code == 409


def test_a_second_undo_is_told_it_was_undone_and_makes_no_second_run(client, team, frozen):
    slots = drafts(team, 2)
    post(login(client, team.editor), "move", slots, days="1")
    run = BulkRun.objects.get()
    assert client.post(f"/bulk/{run.public_id}/undo/", **HTMX).status_code == 200
    again = client.post(f"/bulk/{run.public_id}/undo/", **HTMX)
    assert again.status_code == 409 and "undone already" in again["HX-Trigger"]
    assert BulkRun.objects.filter(undoes=run).count() == 1


def test_an_undo_with_nothing_to_undo_leaves_no_run_behind(client, team, frozen):
    """A label Add that changed nothing (every post had it already): Undo says so, and
    says so again, rather than leaving an empty undo run that turns the next click into
    "It was undone already"."""
    label = Label.objects.create(workspace=team.workspace, name="Launch")
    slots = drafts(team, 2)
    for slot in slots:
        slot.labels.add(label)
    post(login(client, team.editor), "label_add", slots, label=str(label.public_id))
    run = BulkRun.objects.get()
    for _ in range(2):
        response = client.post(f"/bulk/{run.public_id}/undo/", **HTMX)
        assert response.status_code == 409 and "Nothing to undo" in response["HX-Trigger"]
    assert not BulkRun.objects.filter(undoes=run).exists()


def test_undo_of_a_move_goes_through_the_planning_rules(client, team, frozen):
    # Moved later, then the original time passed: the move back is refused in words.
    slot = team.slot(NOW + timedelta(hours=30))
    post(login(client, team.editor), "move", [slot], days="3")
    run = BulkRun.objects.get()
    frozen.shift(timedelta(hours=31))
    client.post(f"/bulk/{run.public_id}/undo/", **HTMX)
    outcome, message = outcomes(BulkRun.objects.get(undoes=run))[slot.pk]
    assert outcome == "refused" and message.startswith("Cannot move it to")


def test_undo_of_a_label_change_reverses_only_what_it_changed(client, team, frozen):
    launch = Label.objects.create(workspace=team.workspace, name="Launch")
    had, plain, taken_off = drafts(team, 3)
    had.labels.add(launch)
    login(client, team.editor)
    post(client, "label_add", [had, plain, taken_off], label=str(launch.public_id))
    run = BulkRun.objects.get()
    taken_off.labels.remove(launch)  # someone else, meanwhile
    client.post(f"/bulk/{run.public_id}/undo/", **HTMX)
    undo = BulkRun.objects.get(undoes=run)
    # The post that had the label before keeps it: the add changed nothing there.
    assert outcomes(undo) == {
        plain.pk: ("done", "Label 'Launch' removed."),
        taken_off.pk: ("refused", "The label 'Launch' was taken off meanwhile; left as it is."),
    }
    assert list(had.labels.all()) == [launch] and not plain.labels.exists()

    post(client, "label_remove", [had], label=str(launch.public_id))
    removal = BulkRun.objects.filter(action="label_remove").get()
    client.post(f"/bulk/{removal.public_id}/undo/", **HTMX)
    assert outcomes(BulkRun.objects.get(undoes=removal)) == {
        had.pk: ("done", "Label 'Launch' added.")
    }


def test_undo_of_a_move_of_a_scheduled_post_moves_it_back_in_scripe(client, team, scheduled, wired):
    before = scheduled.scheduled_for
    post(login(client, team.manager), "move", [scheduled], days="1")
    run = BulkRun.objects.get()
    client.post(f"/bulk/{run.public_id}/undo/", **HTMX)
    assert outcomes(BulkRun.objects.get(undoes=run))[scheduled.pk][0] == "done"
    scheduled.refresh_from_db()
    assert (scheduled.status, scheduled.scheduled_for) == ("scheduled", before)
    with wired.client() as scripe:
        assert scripe.get_post(scheduled.current_job.post_id).scheduled_at == before


def test_an_undo_needs_the_role_the_change_needed(client, team, scheduled, wired):
    post(login(client, team.manager), "move", [scheduled], days="1")
    run = BulkRun.objects.get()
    # The manager is an editor now: moving a scheduled post back is a manager's decision.
    team.manager.memberships.update(role="editor")
    client.post(f"/bulk/{run.public_id}/undo/", **HTMX)
    assert outcomes(BulkRun.objects.get(undoes=run))[scheduled.pk] == (
        "refused",
        "Only a manager can change scheduled posts.",
    )


def test_generate_approve_and_reject_say_they_cannot_be_undone(client, team, frozen):
    slots = drafts(team, 1)
    PlannedSlot.objects.filter(pk=slots[0].pk).update(status="in_review")
    html = post(login(client, team.manager), "reject", slots, reason="No.").content.decode()
    assert "Rejecting cannot be undone: the editors were told." in html
    assert "data-bulk-undo" not in html
    run = BulkRun.objects.get()
    assert client.post(f"/bulk/{run.public_id}/undo/", **HTMX).status_code == 409


# select all matching the filter -------------------------------------------------------------------


def test_select_all_matching_acts_on_the_filter_not_the_ids_sent(
    client, team, frozen, queued, django_capture_on_commit_callbacks
):
    other = team.paused.__class__.objects.create(
        workspace=team.workspace, scripe_id="proj_other", name="Other"
    )
    matching = drafts(team, 30)  # more than a page of 25
    elsewhere = drafts(team, 4, project=other)
    login(client, team.editor)
    data = {
        "action": "move",
        "days": "1",
        "scope": "filter",
        "project": team.project.pk,
        "slot": [str(elsewhere[0].public_id)],  # ignored: the filter decides
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/bulk/", data, **HTMX)
    assert response.status_code == 200
    run = BulkRun.objects.get()
    assert run.total == 30
    assert set(run.items.values_list("slot_id", flat=True)) == {s.pk for s in matching}
    assert queued == [run.pk]


def test_a_filter_that_does_not_parse_acts_on_nothing(client, team, frozen):
    drafts(team, 2)
    data = {"action": "delete", "scope": "filter", "date_from": "2026-13-45"}
    response = login(client, team.editor).post("/bulk/", data, **HTMX)
    assert response.status_code == 422
    assert PlannedSlot.objects.alive().count() == 2


# large runs: a task, with progress ----------------------------------------------------------------


def test_a_200_slot_run_goes_through_a_task_and_reports_progress(
    client, team, frozen, queued, django_capture_on_commit_callbacks
):
    slots = drafts(team, 200)
    login(client, team.editor)
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, "move", slots, days="7")
    html = response.content.decode()
    run = BulkRun.objects.get()
    assert queued == [run.pk]  # enqueued once the run committed
    assert "Working: 0 of 200" in html and 'hx-trigger="every 2s"' in html
    times = {s.pk: s.scheduled_for for s in slots}
    assert dict(PlannedSlot.objects.values_list("pk", "scheduled_for")) == times  # not yet

    with django_capture_on_commit_callbacks(execute=True):
        bulk.bulk_run_advance(run.pk, budget=0)  # a task out of time after one slot...
    assert queued == [run.pk, run.pk]  # ... hands the rest to a new task
    poll = client.get(f"/bulk/{run.public_id}/?poll=1", **HTMX)
    assert "Working: 1 of 200" in poll.content.decode()
    assert "HX-Trigger" not in poll
    # The poll swaps the state under the heading, not the heading (focus may be on it), and
    # says nothing to a screen reader until the end.
    assert (
        poll.content.decode()
        .lstrip()
        .startswith(f'<div class="bulk-run-state" id="bulk-run-state-{run.public_id}"')
    )
    assert "bulk-title" not in poll.content.decode() and "hx-swap-oob" not in poll.content.decode()

    assert bulk_run_advance(run.pk) == 199
    poll = client.get(f"/bulk/{run.public_id}/?poll=1", **HTMX)
    html = poll.content.decode()
    assert "Finished: 200 done." in html and 'hx-trigger="every 2s"' not in html
    # The end is said in the run's status line (a polite live region under its heading).
    said = "Move 200 posts later by 7 days: Finished: 200 done."
    assert f'<p id="bulk-said-{run.public_id}" hx-swap-oob="innerHTML">{said}</p>' in html
    assert "slots-changed" in poll["HX-Trigger"]
    assert BulkItem.objects.filter(outcome="done").count() == 200


def test_a_run_whose_task_was_lost_is_shown_stalled_and_goes_on(
    client, team, frozen, queued, django_capture_on_commit_callbacks
):
    slots = drafts(team, 8)
    with django_capture_on_commit_callbacks(execute=True):
        post(login(client, team.editor), "delete", slots)
    run = BulkRun.objects.get()
    frozen.shift(180)
    html = client.get(f"/bulk/{run.public_id}/", **HTMX).content.decode()
    assert "No progress for two minutes" in html
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/bulk/{run.public_id}/resume/", **HTMX)
    assert queued == [run.pk, run.pk]


def test_the_run_page_works_without_javascript(client, team, frozen):
    response = login(client, team.editor).post(
        "/bulk/", {"action": "delete", "slot": [str(s.public_id) for s in drafts(team, 2)]}
    )
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "<html" in page and "Delete: 2 posts" in page and "Finished: 2 done." in page


# the list -----------------------------------------------------------------------------------------


def test_the_list_has_a_box_per_row_and_the_bar(client, team, frozen):
    slots = drafts(team, 2)
    Label.objects.create(workspace=team.workspace, name="Launch")
    html = login(client, team.editor).get("/slots/").content.decode()
    for slot in slots:
        assert f'name="slot" value="{slot.public_id}" form="bulk-form"' in html
    assert 'id="bulk-form"' in html and "Launch" in html
    assert 'data-bulk-all="2"' in html
    assert 'value="approve"' not in html  # managers only
    assert 'value="approve"' in login(client, team.manager).get("/slots/").content.decode()


def test_the_list_with_checkboxes_costs_the_same_queries_for_3_or_25_rows(client, team, frozen):
    login(client, team.editor)
    drafts(team, 3)
    client.get("/slots/")  # warm the session
    with CaptureQueriesContext(connection) as few:
        client.get("/slots/")
    drafts(team, 40)
    with CaptureQueriesContext(connection) as many:
        assert client.get("/slots/").content.decode().count("data-bulk-check") == 25
    assert len(few) == len(many)


def test_the_undo_time_of_a_long_delete_counts_from_when_it_finished(client, team, frozen):
    """A task-run delete of many slots: the first deleted must not be past Undo by the time
    the last one is, and the person clicks Undo."""
    slots = drafts(team, 2)
    post(login(client, team.editor), "delete", slots)
    run = BulkRun.objects.get()
    # As if the first slot was deleted long before the run finished.
    PlannedSlot.objects.filter(pk=slots[0].pk).update(
        deleted_at=run.finished_at - timedelta(seconds=60)
    )
    frozen.shift(5)
    client.post(f"/bulk/{run.public_id}/undo/", **HTMX)
    assert PlannedSlot.objects.alive().count() == 2


def test_a_run_done_by_its_task_writes_each_reason_in_its_owners_language(
    client, team, frozen, queued
):
    from calendar_app.models import Profile

    Profile.objects.create(user=team.editor, language="de")
    slots = drafts(team, bulk.INLINE_MAX + 1)  # more than the request does itself
    PlannedSlot.objects.filter(pk=slots[0].pk).update(status="in_review")
    post(login(client, team.editor), "move", slots, days="1")
    run = BulkRun.objects.get()
    assert run.items.filter(outcome="pending").count() == len(slots)  # left to its task

    with translation.override(None):  # a worker: no request, so no language of its own
        bulk_run_advance(run.pk)
    assert outcomes(run)[slots[0].pk] == ("refused", "Der Entwurf wartet auf Freigabe.")
    assert run.items.filter(outcome="done").count() == len(slots) - 1
