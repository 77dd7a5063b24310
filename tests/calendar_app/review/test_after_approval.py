"""Managers change a post after approval: a new time (the form, or dragging the card), Undo,
unscheduling, its text. Scripe first: when it refuses, nothing changes here. Against the
sandbox over HTTP."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from calendar_app.core.refusals import Refusal
from calendar_app.models import PlannedSlot, SlotEvent
from calendar_app.pipeline.sync import post_follow
from scripe_integration.services import connection_for

HTMX = {"HX-Request": "true"}


def reloaded(slot) -> PlannedSlot:
    return PlannedSlot.objects.for_cards().get(pk=slot.pk)


def in_scripe(wired, slot):
    with wired.client() as scripe:
        return scripe.get_post(slot.current_job.post_id)


def local(slot, days: int = 0) -> dict[str, str]:
    """The slot's local day (moved by `days`) and time, as the form sends them."""
    when = timezone.localtime(slot.scheduled_for, slot.workspace.zone) + timedelta(days=days)
    return {"date": f"{when:%Y-%m-%d}", "time": f"{when:%H:%M}"}


def toast(response) -> str:
    return json.loads(response["HX-Trigger"])["toast"]["message"]


def test_a_manager_reschedules_in_scripe_first_and_can_undo(client, team, wired, scheduled):
    before = scheduled.scheduled_for
    client.force_login(team.manager)
    response = client.post(
        f"/slots/{scheduled.public_id}/reschedule/", local(scheduled, days=2), headers=HTMX
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Rescheduled to" in html and "Undo" in html
    slot = reloaded(scheduled)
    assert slot.status == "scheduled"
    assert slot.scheduled_for == before + timedelta(days=2)
    assert in_scripe(wired, slot).scheduled_at == slot.scheduled_for
    assert SlotEvent.objects.filter(slot=slot, text__startswith="Rescheduled from").exists()

    undo = client.post(f"/slots/{scheduled.public_id}/reschedule/", local(scheduled), headers=HTMX)
    assert undo.status_code == 200
    assert reloaded(scheduled).scheduled_for == before
    assert in_scripe(wired, scheduled).scheduled_at == before


def test_a_refusal_from_scripe_changes_nothing_here(client, team, wired, scheduled):
    wired.patch_project(team.project.scripe_id, linkedinConnected=False)
    events = SlotEvent.objects.filter(slot=scheduled).count()
    client.force_login(team.manager)
    response = client.post(
        f"/slots/{scheduled.public_id}/reschedule/", local(scheduled, days=1), headers=HTMX
    )
    assert response.status_code == 409
    assert "LinkedIn connection is down" in toast(response)
    slot = reloaded(scheduled)
    assert (slot.status, slot.scheduled_for) == ("scheduled", scheduled.scheduled_for)
    assert slot.updated_at == scheduled.updated_at  # the claim was undone exactly
    assert SlotEvent.objects.filter(slot=slot).count() == events
    assert in_scripe(wired, slot).scheduled_at == scheduled.scheduled_for


def test_an_unreachable_scripe_changes_nothing_and_says_so(client, team, sandbox, scheduled):
    sandbox.sandbox.stop()  # Scripe is down
    client.force_login(team.manager)
    response = client.post(
        f"/slots/{scheduled.public_id}/reschedule/", local(scheduled, days=1), headers=HTMX
    )
    assert response.status_code == 409
    assert "could not be reached. Nothing was changed." in toast(response)
    assert reloaded(scheduled).status == "scheduled"


def test_a_new_time_follows_the_planning_rules_before_anything_is_sent(
    client, team, wired, scheduled
):
    requests = wired.stats()["requestsTotal"]
    soon = timezone.localtime(timezone=scheduled.workspace.zone) + timedelta(minutes=2)
    client.force_login(team.manager)
    response = client.post(
        f"/slots/{scheduled.public_id}/reschedule/",
        {"date": f"{soon:%Y-%m-%d}", "time": f"{soon:%H:%M}"},
        headers=HTMX,
    )
    assert response.status_code == 422
    assert wired.stats()["requestsTotal"] == requests
    assert reloaded(scheduled).scheduled_for == scheduled.scheduled_for


def test_a_late_answer_is_settled_from_scripes_copy(client, team, wired, scheduled, settings):
    # The PATCH hangs past the timeout, then fails (500): it never applies, however late the
    # copy is read. (A PATCH that went through after its hang moved Scripe's copy too when a
    # busy machine read it after that, and a 0.3 s timeout was short for the read itself.)
    settings.SCRIPE_READ_TIMEOUT = 1.0
    wired.fault("PATCH /v1/posts/{postId}", count=1, hangSeconds=3.0, status=500)
    client.force_login(team.manager)
    response = client.post(
        f"/slots/{scheduled.public_id}/reschedule/", local(scheduled, days=1), headers=HTMX
    )
    # The hung PATCH never applied: Scripe's copy still has the old time, and so does the slot.
    assert "Scripe answered slowly; it has the post scheduled for" in toast(response)
    slot = reloaded(scheduled)
    assert (slot.status, slot.scheduled_for) == ("scheduled", scheduled.scheduled_for)


def test_dragging_a_scheduled_card_reschedules_it_for_managers_only(client, team, wired, scheduled):
    target = {"date": local(scheduled, days=1)["date"]}
    client.force_login(team.editor)
    assert (
        client.post(f"/slots/{scheduled.public_id}/move/", target, headers=HTMX).status_code == 403
    )
    client.force_login(team.manager)
    response = client.post(f"/slots/{scheduled.public_id}/move/", target, headers=HTMX)
    assert response.status_code == 200
    slot = reloaded(scheduled)
    assert slot.scheduled_for == scheduled.scheduled_for + timedelta(days=1)  # same time of day
    assert in_scripe(wired, slot).scheduled_at == slot.scheduled_for


def test_unscheduling_takes_it_back_to_review_and_leaves_a_draft_in_scripe(
    client, team, wired, scheduled
):
    client.force_login(team.manager)
    response = client.post(f"/slots/{scheduled.public_id}/unschedule/", headers=HTMX)
    assert response.status_code == 204
    assert toast(response).startswith("Unscheduled")
    slot = reloaded(scheduled)
    assert slot.status == "in_review"
    assert "Unscheduled by" in slot.status_note
    post = in_scripe(wired, slot)
    assert (post.status, post.scheduled_at) == ("draft", None)


def test_editing_a_scheduled_posts_text_updates_scripe_then_ours(client, team, wired, scheduled):
    job = scheduled.current_job
    client.force_login(team.manager)
    response = client.post(
        f"/slots/{scheduled.public_id}/post/",
        {"title": "New title", "content": "Sharper words.", "version": job.text_version},
        headers=HTMX,
    )
    assert response.status_code == 204
    assert in_scripe(wired, scheduled).content == "Sharper words."
    assert reloaded(scheduled).current_job.post_content == "Sharper words."
    edit = SlotEvent.objects.get(slot=scheduled, kind="edit", text="Text changed in Scripe.")
    assert edit.earlier_text == job.post_content

    stale = client.post(
        f"/slots/{scheduled.public_id}/post/",
        {"title": "Mine", "content": "Older base.", "version": job.text_version},
        headers=HTMX,
    )
    assert stale.status_code == 409
    assert in_scripe(wired, scheduled).content == "Sharper words."


def test_a_text_over_linkedins_limit_is_refused_before_anything_is_sent(
    client, team, wired, scheduled
):
    requests = wired.stats()["requestsTotal"]
    client.force_login(team.manager)
    response = client.post(
        f"/slots/{scheduled.public_id}/post/", {"title": "T", "content": "x" * 3001}, headers=HTMX
    )
    assert response.status_code == 422
    assert "Shorten it by 1" in response.content.decode()
    assert wired.stats()["requestsTotal"] == requests


@pytest.mark.parametrize("action", ["reschedule", "unschedule", "post"])
def test_only_managers_change_scheduled_posts(client, team, wired, scheduled, action):
    url = f"/slots/{scheduled.public_id}/{action}/"
    assert client.post(url).status_code == 302  # to the login page
    client.force_login(team.outsider)
    assert client.post(url).status_code == 404
    client.force_login(team.editor)
    assert client.post(url, local(scheduled, days=1)).status_code == 403
    client.force_login(team.manager)
    assert client.get(url).status_code == 405
    assert reloaded(scheduled).status == "scheduled"


def test_the_slot_page_offers_managers_the_changes(client, team, wired, scheduled):
    client.force_login(team.manager)
    html = client.get(f"/slots/{scheduled.public_id}/").content.decode()
    assert "Change the scheduled post" in html and "Unschedule" in html
    client.force_login(team.editor)
    assert (
        "Change the scheduled post"
        not in client.get(f"/slots/{scheduled.public_id}/").content.decode()
    )


def test_sync_now_reads_back_in_a_task_and_the_slot_shows_it(
    client, team, wired, scheduled, monkeypatch, django_capture_on_commit_callbacks
):
    from calendar_app import tasks
    from calendar_app.pipeline import sync

    ran = []
    monkeypatch.setattr(sync, "enqueue", lambda pk: ran.append(tasks.sync_workspace(pk)))
    wired.dashboard_delete(scheduled.current_job.post_id)
    url = f"/projects/sync-posts/{team.workspace.public_id}/"
    client.force_login(team.editor)
    assert client.post(url, headers=HTMX).status_code == 403
    client.force_login(team.manager)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, headers=HTMX)
    assert response.status_code == 204
    assert toast(response).startswith("Reading back from Scripe")
    assert len(ran) == 1 and "removed in Scripe" in ran[0]
    assert reloaded(scheduled).status == "removed"


def test_a_change_held_by_the_rate_limit_is_not_sent_and_says_when_to_try(
    client, team, wired, scheduled, time_machine
):
    # The clock stands still: the sentence names the 20 s however busy the machine is.
    time_machine.move_to(timezone.now(), tick=False)
    connection_for(team.workspace).hold(seconds=20)
    requests = wired.stats()["requestsTotal"]
    client.force_login(team.manager)
    response = client.post(
        f"/slots/{scheduled.public_id}/reschedule/", local(scheduled, days=1), headers=HTMX
    )
    assert response.status_code == 409
    assert "rate-limiting this workspace: nothing was changed. Try again in 2" in toast(response)
    slot = reloaded(scheduled)
    assert (slot.status, slot.scheduled_for) == ("scheduled", scheduled.scheduled_for)
    assert wired.stats()["requestsTotal"] == requests


def test_a_late_copy_from_before_a_managers_change_does_not_undo_it(client, team, wired, scheduled):
    with wired.client() as scripe:
        before = scripe.get_post(scheduled.current_job.post_id)  # a webhook still on its way
    client.force_login(team.manager)
    client.post(f"/slots/{scheduled.public_id}/reschedule/", local(scheduled, days=1))
    moved = reloaded(scheduled)
    assert post_follow(moved, before) == ""
    assert reloaded(scheduled).scheduled_for == moved.scheduled_for


def test_a_text_edit_claims_the_post_so_a_second_change_is_refused_meanwhile(
    team, wired, scheduled, monkeypatch
):
    from calendar_app.review import after_approval as changes

    job = scheduled.current_job
    real = changes.post_update
    seen = {}

    def meanwhile(**kwargs):
        # A second manager acts while Scripe is being asked.
        other = reloaded(scheduled)
        with pytest.raises(Refusal) as refusal:
            changes.scheduled_unschedule(slot=other, user=team.admin)
        seen["refusal"] = refusal.value
        return real(**kwargs)

    monkeypatch.setattr(changes, "post_update", meanwhile)
    changes.scheduled_edit(
        slot=scheduled, user=team.manager, title="T", content="New words.",
        version=job.text_version,
    )  # fmt: skip
    assert seen["refusal"].stale
    slot = reloaded(scheduled)
    assert (slot.status, slot.current_job.post_content) == ("scheduled", "New words.")


def test_a_change_made_on_the_posts_own_page_reloads_it_with_the_sentence(
    client, team, wired, scheduled
):
    own_page = f"http://testserver/slots/{scheduled.public_id}/"
    client.force_login(team.manager)
    response = client.post(
        f"/slots/{scheduled.public_id}/reschedule/",
        local(scheduled, days=1),
        headers={**HTMX, "HX-Current-URL": own_page},
    )
    assert response.status_code == 200 and response["HX-Refresh"] == "true"
    page = client.get(f"/slots/{scheduled.public_id}/").content.decode()
    assert "Rescheduled to" in page  # the message, on the reloaded page
    assert reloaded(scheduled).scheduled_for == scheduled.scheduled_for + timedelta(days=1)
