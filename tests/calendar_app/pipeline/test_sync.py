"""The sync: what Scripe says happened to a post after approval (published, moved, unscheduled,
edited, deleted, overdue) shows on its slot, with a trail entry by Scripe. Against the sandbox
over HTTP; changes "in Scripe's dashboard" go through the sandbox's control surface."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from calendar_app.models import PlannedSlot, SlotEvent
from calendar_app.pipeline import sync
from calendar_app.pipeline.generation import generation_request
from calendar_app.pipeline.sync import missed_sweep, post_follow, scripe_sync, syncs_due
from calendar_app.review.services import draft_save, slot_approve
from scripe_integration.services import connection_for
from tests.support import wait_for, written_draft


def reloaded(slot) -> PlannedSlot:
    return PlannedSlot.objects.for_cards().get(pk=slot.pk)


def iso(when) -> str:
    return when.isoformat().replace("+00:00", "Z")


def post_id(slot) -> str:
    return slot.current_job.post_id


def last_event(slot) -> SlotEvent:
    return SlotEvent.objects.filter(slot=slot).last()


def test_a_published_post_shows_as_published_with_the_time_it_went_out(team, wired, scheduled):
    went_out = timezone.now() - timedelta(seconds=1)
    wired.dashboard_edit(post_id(scheduled), scheduledAt=iso(went_out))
    wait_for(
        lambda: wired.client().get_post(post_id(scheduled)).status == "published", 5, "publish"
    )
    report = scripe_sync(workspace=team.workspace)
    slot = reloaded(scheduled)
    assert slot.status == "published"
    assert abs((slot.published_at - went_out).total_seconds()) < 1
    assert "published" in report.sentence()
    event = last_event(slot)
    assert (event.who, event.status) == ("Scripe", "published")
    assert event.text.startswith("Published on LinkedIn at ")


def test_a_post_moved_in_scripe_moves_here_and_the_trail_says_from_and_to(team, wired, scheduled):
    later = (scheduled.scheduled_for + timedelta(days=2)).replace(microsecond=0)
    wired.dashboard_edit(post_id(scheduled), scheduledAt=iso(later))
    scripe_sync(workspace=team.workspace)
    slot = reloaded(scheduled)
    assert (slot.status, slot.scheduled_for) == ("scheduled", later)
    text = last_event(slot).text
    assert text.startswith("Rescheduled in Scripe from ") and " to " in text


def test_a_post_unscheduled_in_scripe_comes_back_to_review_with_a_note(team, wired, scheduled):
    wired.dashboard_edit(post_id(scheduled), scheduledAt=None)
    scripe_sync(workspace=team.workspace)
    slot = reloaded(scheduled)
    assert slot.status == "in_review"
    assert slot.shows_status_note and "Unscheduled in Scripe" in slot.status_note
    assert last_event(slot).who == "Scripe"


def test_text_edited_in_scripe_replaces_ours_and_keeps_the_earlier_version(team, wired, scheduled):
    earlier = scheduled.current_job.post_content
    wired.dashboard_edit(post_id(scheduled), content="Rewritten by hand in Scripe.")
    scripe_sync(workspace=team.workspace)
    slot = reloaded(scheduled)
    assert slot.current_job.post_content == "Rewritten by hand in Scripe."
    edit = SlotEvent.objects.get(slot=slot, kind="edit")
    assert (edit.who, edit.earlier_text) == ("Scripe", earlier)


def test_a_post_deleted_in_scripe_offers_to_generate_again_or_drop_it(team, wired, scheduled):
    wired.dashboard_delete(post_id(scheduled))
    scripe_sync(workspace=team.workspace)
    slot = reloaded(scheduled)
    assert slot.status == "removed"
    assert "Removed in Scripe" in slot.status_note
    assert slot.is_editable and slot.can_generate and slot.generate_label == "Generate again"
    generation_request(slot=slot)  # generating it again is allowed
    assert reloaded(slot).status == "queued"


def test_a_post_past_its_time_and_not_published_is_flagged_with_the_projects_problem(
    team, wired, scheduled
):
    wired.fail_next_publish(post_id(scheduled), code="linkedin_not_connected")
    overdue = timezone.now() - sync.PUBLISH_MARGIN - timedelta(minutes=1)
    wired.dashboard_edit(post_id(scheduled), scheduledAt=iso(overdue.replace(microsecond=0)))
    wired.patch_project(team.project.scripe_id, status="ERROR")
    wait_for(lambda: wired.client().get_post(post_id(scheduled)).status == "scheduled", 2, "tick")
    scripe_sync(workspace=team.workspace)
    slot = reloaded(scheduled)
    # The move to a past time is followed, and the post stays scheduled but flagged.
    assert slot.status == "scheduled"
    scripe_sync(workspace=team.workspace)
    slot = reloaded(scheduled)
    assert slot.scripe_warning.startswith("Not published yet")
    assert "Scripe reports a problem with this project" in slot.scripe_warning


def test_one_listing_reads_back_every_followed_post_of_a_project(team, wired):
    slots = [written_draft(team, days=3 + i, text=f"Idea {i}.") for i in range(4)]
    for slot in slots:
        slot_approve(slot=slot, user=team.manager)
    before = wired.stats()["requests"]
    report = scripe_sync(workspace=team.workspace)
    after = wired.stats()["requests"]
    assert report.calls == 1
    assert after.get("GET /v1/posts", 0) - before.get("GET /v1/posts", 0) == 1
    assert after.get("GET /v1/posts/{postId}") == before.get("GET /v1/posts/{postId}")
    assert report.sentence() == "Everything matches Scripe."


def test_the_sync_sends_nothing_inside_a_retry_after(team, wired, scheduled):
    connection_for(team.workspace).hold(seconds=30)
    before = wired.stats()["requestsTotal"]
    report = scripe_sync(workspace=team.workspace)
    assert wired.stats()["requestsTotal"] == before
    assert "rate-limiting" in report.problem


def test_a_429_during_the_sync_stops_it_and_holds_the_workspace(team, wired, scheduled):
    wired.fault("GET /v1/posts", count=1, status=429, retryAfter=20)
    report = scripe_sync(workspace=team.workspace)
    assert "rate-limiting" in report.sentence()
    assert reloaded(scheduled).status == "scheduled"
    before = wired.stats()["requestsTotal"]
    scripe_sync(workspace=team.workspace)  # the next run waits for the Retry-After
    assert wired.stats()["requestsTotal"] == before


def test_an_older_copy_of_the_post_never_undoes_a_newer_one(team, wired, scheduled):
    with wired.client() as scripe:
        old = scripe.get_post(post_id(scheduled))
    later = (scheduled.scheduled_for + timedelta(days=1)).replace(microsecond=0)
    wired.dashboard_edit(post_id(scheduled), scheduledAt=iso(later))
    scripe_sync(workspace=team.workspace)
    assert post_follow(reloaded(scheduled), old) == ""  # a webhook that arrived late
    assert reloaded(scheduled).scheduled_for == later


def test_a_managers_edits_to_a_draft_in_review_are_not_taken_for_scripes(team, wired):
    slot = written_draft(team)
    draft_save(slot=slot, user=team.manager, title="Mine", content="My better words.")
    scripe_sync(workspace=team.workspace)
    assert reloaded(slot).current_job.post_content == "My better words."


def test_a_draft_scheduled_in_scripe_itself_shows_as_scheduled(team, wired):
    slot = written_draft(team)
    when = (timezone.now() + timedelta(days=5)).replace(microsecond=0)
    wired.dashboard_edit(post_id(slot), scheduledAt=iso(when))
    scripe_sync(workspace=team.workspace)
    slot = reloaded(slot)
    assert (slot.status, slot.scheduled_for) == ("scheduled", when)


def test_the_sweep_reads_back_projects_with_a_post_due_to_go_out(team, wired, scheduled):
    assert syncs_due() == 1  # never read back yet
    assert syncs_due() == 0  # read just now, and nothing is due to go out
    PlannedSlot.objects.filter(pk=scheduled.pk).update(
        scheduled_for=timezone.now() - timedelta(minutes=1)
    )
    assert syncs_due() == 1  # due to go out: read every sweep until Scripe says it went


def test_a_draft_still_in_review_when_its_time_passes_becomes_missed(team, wired, client):
    slot = written_draft(team)
    PlannedSlot.objects.filter(pk=slot.pk).update(
        scheduled_for=timezone.now() - timedelta(minutes=1)
    )
    assert missed_sweep() == 1
    assert reloaded(slot).status == "missed"
    client.force_login(team.manager)
    assert str(slot.public_id) in client.get("/review/").content.decode()


def test_a_draft_published_from_scripes_dashboard_shows_as_published(team, wired):
    slot = written_draft(team)
    went_out = (timezone.now() - timedelta(seconds=1)).replace(microsecond=0)
    wired.dashboard_edit(post_id(slot), scheduledAt=iso(went_out))
    wait_for(lambda: wired.client().get_post(post_id(slot)).status == "published", 5, "publish")
    scripe_sync(workspace=team.workspace)
    slot = reloaded(slot)
    assert slot.status == "published"
    assert last_event(slot).text.startswith("Published on LinkedIn from Scripe's dashboard")
