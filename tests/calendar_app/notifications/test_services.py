"""Who is told what (notifications/services.py): each event reaches the right people and
never the person who did it, whichever path moved the slot (the pipeline, the review, changes
after approval, the sync). Against the sandbox over HTTP, with django-q2 left out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.utils import timezone

from calendar_app.models import (
    Membership,
    Notification,
    NotificationPreference,
    PlannedSlot,
    Role,
    SlotWatch,
)
from calendar_app.notifications import services as notifications
from calendar_app.pipeline import dispatch
from calendar_app.pipeline.generation import generation_request
from calendar_app.pipeline.sync import missed_sweep, scripe_sync
from calendar_app.review.services import (
    slot_approve,
    slot_comment,
    slot_reject,
    slot_request_changes,
)
from scripe_integration.services import connection_for, key_verify
from tests.support import generation_finish, wait_for, written_draft


def told(kind: str, slot=None) -> set[str]:
    """The usernames told about `kind` (of `slot`)."""
    rows = Notification.objects.filter(kind=kind)
    if slot is not None:
        rows = rows.filter(slot=slot)
    return {n.user.username for n in rows.select_related("user")}


def reloaded(slot) -> PlannedSlot:
    return PlannedSlot.objects.for_cards().get(pk=slot.pk)


def iso(when) -> str:
    return when.isoformat().replace("+00:00", "Z")


@pytest.fixture
def emails(team):
    for user in (team.editor, team.manager, team.admin, team.outsider):
        user.email = f"{user.username}@example.com"
        user.save(update_fields=["email"])


def test_a_written_draft_tells_the_workspaces_managers_and_admins(team, wired):
    slot = written_draft(team)
    assert told("review_ready", slot) == {"max", "ada"}  # not the editor, nor the outsider
    row = Notification.objects.get(kind="review_ready", user=team.manager)
    assert row.text.startswith("Ready for review: Lena Fischer, ")
    assert row.read_at is None and row.workspace == team.workspace


def test_a_notification_writes_its_day_as_every_date_does(team):
    """A day reads "Wed 6 Jan", as every other date does, not "Wed 06 Jan" (#24)."""
    from calendar_app.notifications.trail import Kind, record

    slot = team.slot(datetime(2027, 1, 6, 9, 0, tzinfo=UTC), status="rejected")
    record(slot, kind=Kind.STATUS, actor=team.manager, text="Not our voice.")
    row = Notification.objects.get(kind="rejected", user=team.editor)
    assert row.text == "Rejected: Lena Fischer, Wed 6 Jan 10:00 (by Max)"


def test_a_request_for_changes_tells_the_creator_and_watchers_but_not_the_manager(team, wired):
    slot = written_draft(team)
    notifications.slot_watch(slot=slot, user=team.admin)
    notifications.slot_watch(slot=slot, user=team.manager)  # watches, but it is their doing
    slot_request_changes(slot=slot, user=team.manager, comment="Shorter, please.")
    assert told("changes_requested", slot) == {"erin", "ada"}
    row = Notification.objects.get(kind="changes_requested", user=team.editor)
    assert "(by Max)" in row.text and "Shorter, please." in row.detail


def test_a_rejection_tells_the_creator_with_the_reason(team, wired):
    slot = written_draft(team)
    slot_reject(slot=slot, user=team.manager, reason="Not our voice.")
    assert told("rejected", slot) == {"erin"}
    assert Notification.objects.get(kind="rejected").detail == "Not our voice."


def test_the_person_who_did_it_is_never_told_even_when_they_planned_it(team, wired):
    slot = written_draft(team)
    PlannedSlot.objects.filter(pk=slot.pk).update(created_by=team.manager)
    slot.refresh_from_db()
    slot_reject(slot=slot, user=team.manager, reason="Changed my mind.")
    assert told("rejected", slot) == set()


def test_an_approval_tells_the_creator_and_a_move_in_scripe_tells_nobody_again(team, wired):
    slot = written_draft(team)
    slot_approve(slot=slot, user=team.manager)
    assert told("approved", slot) == {"erin"}
    slot = reloaded(slot)
    later = (slot.scheduled_for + timedelta(days=1)).replace(microsecond=0)
    wired.dashboard_edit(slot.current_job.post_id, scheduledAt=iso(later))
    scripe_sync(workspace=team.workspace)
    assert reloaded(slot).scheduled_for == later
    # Still scheduled: a new time is not news of an approval.
    assert Notification.objects.filter(kind="approved").count() == 1


def test_a_publication_seen_by_the_sync_tells_the_creator(team, wired, scheduled):
    Notification.objects.all().delete()
    went_out = timezone.now() - timedelta(seconds=1)
    wired.dashboard_edit(scheduled.current_job.post_id, scheduledAt=iso(went_out))
    wait_for(
        lambda: wired.client().get_post(scheduled.current_job.post_id).status == "published",
        5,
        "publish",
    )
    scripe_sync(workspace=team.workspace)
    assert reloaded(scheduled).status == "published"
    assert told("published", scheduled) == {"erin"}
    assert "(by" not in Notification.objects.get(kind="published").text  # Scripe did it


def test_a_post_deleted_in_scripe_tells_the_creator_it_was_removed(team, wired, scheduled):
    wired.dashboard_delete(scheduled.current_job.post_id)
    scripe_sync(workspace=team.workspace)
    assert reloaded(scheduled).status == "removed"
    assert told("removed", scheduled) == {"erin"}


def test_a_failed_generation_tells_the_creator_and_watchers(team, wired):
    slot = team.slot(timezone.now() + timedelta(days=3))
    notifications.slot_watch(slot=slot, user=team.manager)
    wired.fail_next_jobs(1, code="content_policy")
    generation_finish(generation_request(slot=slot, user=team.editor).pk)
    assert reloaded(slot).status == "failed"
    # The pipeline failed it, not the editor who asked: the editor is told too.
    assert told("failed", slot) == {"erin", "max"}


def test_a_draft_whose_time_passed_tells_the_creator_it_was_missed(team, wired):
    slot = written_draft(team)
    PlannedSlot.objects.filter(pk=slot.pk).update(scheduled_for=timezone.now() - timedelta(1))
    assert missed_sweep() == 1
    assert told("missed", slot) == {"erin"}


def test_a_watcher_who_left_the_workspace_is_not_told(team, wired):
    slot = written_draft(team)
    notifications.slot_watch(slot=slot, user=team.admin)
    Membership.objects.filter(user=team.admin).delete()
    slot_reject(slot=slot, user=team.manager, reason="No.")
    assert told("rejected", slot) == {"erin"}


def test_commenting_watches_the_slot(team, wired):
    slot = written_draft(team)
    slot_comment(slot=slot, user=team.admin, text="I like it.")
    assert SlotWatch.objects.filter(slot=slot, user=team.admin).exists()
    slot_reject(slot=slot, user=team.manager, reason="Still no.")
    assert told("rejected", slot) == {"erin", "ada"}


# a client through a review link ----------------------------------------------------------------


@pytest.fixture
def shared(team, wired):
    """A draft in review, shared with a client, watched by a second editor; the team's
    notifications so far (the draft is ready) set aside."""
    from django.contrib.auth import get_user_model

    from calendar_app.review import guests

    slot = written_draft(team)
    wanda = get_user_model().objects.create_user("wanda", password="pw", first_name="Wanda")
    Membership.objects.create(user=wanda, workspace=team.workspace, role=Role.EDITOR)
    notifications.slot_watch(slot=slot, user=wanda)
    notifications.slot_watch(slot=slot, user=team.outsider)  # not a member: never told
    link, _ = guests.link_create(slot=slot, user=team.manager, days=7)
    Notification.objects.all().delete()
    return slot, link


def test_a_guests_comment_tells_the_creator_watchers_and_reviewers_naming_the_guest(team, shared):
    """QA: a client's comment reached nobody; the team learnt of it only by opening the post."""
    from calendar_app.review import guests

    slot, link = shared
    guests.guest_comment(link=link, name="Anna Weber", text="Less jargon, please.")
    # The creator and watchers planned it; the managers and admins decide on the draft.
    assert told("guest_comment", slot) == {"erin", "wanda", "max", "ada"}
    row = Notification.objects.get(kind="guest_comment", user=team.manager)
    when = timezone.localtime(slot.scheduled_for, team.workspace.zone)
    assert row.text == (
        f"Client comment: Lena Fischer, {when:%a} {when.day} {when:%b %H:%M} (by guest Anna Weber)"
    )
    assert row.detail == "Less jargon, please."


def test_a_team_members_comment_tells_nobody(team, shared):
    slot, _ = shared
    slot_comment(slot=slot, user=team.manager, text="Looks good to me.")
    assert not Notification.objects.exists()


def test_a_guests_approval_names_the_guest(team, shared):
    """QA: "Approved and scheduled: …" said who approved when a manager did, not a client."""
    from calendar_app.review import guests

    slot, link = shared
    guests.guest_approve(link=link, name="Anna Weber")
    assert told("approved", slot) == {"erin", "wanda"}
    row = Notification.objects.get(kind="approved", user=team.editor)
    assert row.text.startswith("Approved and scheduled: Lena Fischer, ")
    assert row.text.endswith(" (by guest Anna Weber)")


def test_a_revoked_key_tells_the_admins_once(team, sandbox, monkeypatch):
    sandbox.wire(team.workspace)
    monkeypatch.setattr(dispatch, "enqueue", lambda ids: None)
    sandbox.revoke(sandbox.key)
    first = team.slot(timezone.now() + timedelta(days=3))
    generation_finish(generation_request(slot=first).pk)
    assert reloaded(first).status == "failed"
    assert connection_for(team.workspace).key_state == "invalid"
    assert told("key_invalid") == {"ada"}
    row = Notification.objects.get(kind="key_invalid")
    assert "Acme" in row.text and row.slot is None
    # Refused again (a verification in the admin): already known, nobody is told twice.
    ok, _ = key_verify(workspace=team.workspace)
    assert not ok
    assert Notification.objects.filter(kind="key_invalid").count() == 1


def test_the_spend_cap_tells_the_admins(team, sandbox_factory, monkeypatch):
    sandbox = sandbox_factory(spend_cap=0)
    sandbox.wire(team.workspace)
    monkeypatch.setattr(dispatch, "enqueue", lambda ids: None)
    slot = team.slot(timezone.now() + timedelta(days=3))
    generation_finish(generation_request(slot=slot).pk)
    assert reloaded(slot).status == "failed"
    assert told("spend_cap") == {"ada"}
    assert "resets at 00:00 UTC" in Notification.objects.get(kind="spend_cap").detail
    assert told("failed", slot) == {"erin"}  # and the slot's creator hears of its failure


def test_the_spend_cap_is_told_once_a_utc_day(team):
    with time_machine.travel(datetime(2026, 12, 1, 23, 50, tzinfo=UTC), tick=False):
        notifications.spend_cap_notify(workspace_id=team.workspace.pk, spent=500, cap=500)
        notifications.spend_cap_notify(workspace_id=team.workspace.pk)
        assert Notification.objects.filter(kind="spend_cap").count() == 1
        assert Notification.objects.get(kind="spend_cap").detail.startswith("500 of 500 cents")
    with time_machine.travel(datetime(2026, 12, 2, 0, 10, tzinfo=UTC), tick=False):
        notifications.spend_cap_notify(workspace_id=team.workspace.pk)
    assert Notification.objects.filter(kind="spend_cap", user=team.admin).count() == 2


def test_rows_carry_each_persons_email_choice(team, wired, emails):
    NotificationPreference.objects.create(user=team.manager, kind="review_ready", email="digest")
    NotificationPreference.objects.create(user=team.admin, kind="review_ready", email="off")
    written_draft(team)
    states = dict(
        Notification.objects.filter(kind="review_ready").values_list("user__username", "email")
    )
    assert states == {"max": "digest", "ada": "none"}  # off: still shown in the app


def test_a_person_without_an_email_address_is_told_in_the_app_only(team, wired):
    written_draft(team)
    assert set(Notification.objects.values_list("email", flat=True)) == {"none"}


def test_immediate_emails_are_enqueued_only_when_the_event_commits(
    team, wired, emails, monkeypatch, django_capture_on_commit_callbacks
):
    enqueued = []
    monkeypatch.setattr(notifications, "enqueue_emails", lambda ids: enqueued.extend(ids))
    slot = written_draft(team)
    assert enqueued == []  # the test's transaction has not committed
    with django_capture_on_commit_callbacks(execute=True):
        slot_reject(slot=slot, user=team.manager, reason="No.")
    assert enqueued == [Notification.objects.get(kind="rejected").pk]


def test_role_changes_decide_who_hears_of_drafts(team, wired):
    Membership.objects.filter(user=team.editor).update(role=Role.MANAGER)
    written_draft(team)
    assert told("review_ready") == {"erin", "max", "ada"}


def test_the_tables_say_what_happens_for_every_kind():
    kinds = set(notifications.K.values)
    assert set(notifications.AUDIENCE) == kinds
    assert set(notifications.DEFAULT_EMAIL) == kinds
    assert set(notifications.STATUS_EVENTS.values()) <= kinds


def test_a_manager_of_another_workspace_is_not_a_reviewer_here(team, wired):
    Membership.objects.create(user=team.editor, workspace=team.other_workspace, role=Role.ADMIN)
    written_draft(team)
    assert told("review_ready") == {"max", "ada"}
