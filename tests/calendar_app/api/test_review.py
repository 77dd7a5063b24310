"""The review queue and its decisions through the API, and the changes to a scheduled post:
the review page's rules (managers only, no self-approval), its scopes, tenants, and a
decision that lost its race."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from calendar_app import access
from calendar_app.models import PlannedSlot, SlotEvent
from tests.support import written_draft

pytestmark = pytest.mark.django_db

REVIEW = "/api/v1/review/"


def _post(slot, action: str = "") -> str:
    return f"/api/v1/posts/{slot.public_id}/{action + '/' if action else ''}"


def _ahead(days: int):
    return (timezone.now() + timedelta(days=days)).replace(minute=0, second=0, microsecond=0)


def test_a_manager_lists_the_drafts_waiting_with_the_review_pages_filters(team, manager_api):
    soon = team.slot(_ahead(2), status="in_review")
    missed = team.slot(_ahead(3), status="missed")
    team.slot(_ahead(4), status="draft")
    team.slot(_ahead(5), status="in_review", project=team.foreign_project)
    answer = manager_api.get(REVIEW)
    assert answer.status_code == 200, answer.json()
    assert [p["id"] for p in answer.json()["data"]] == [str(soon.public_id), str(missed.public_id)]
    day = timezone.localtime(missed.scheduled_for, team.workspace.zone).date().isoformat()
    dated = manager_api.get(REVIEW, {"dateFrom": day, "dateTo": day}).json()["data"]
    assert [p["id"] for p in dated] == [str(missed.public_id)]
    unknown = manager_api.get(REVIEW, {"projectId": team.foreign_project.scripe_id})
    assert unknown.status_code == 422
    assert "projectId" in unknown.json()["error"]["fields"]


def test_the_queue_reads_a_constant_number_of_queries(team, manager_api, django_assert_num_queries):
    manager_api.get(REVIEW)  # the token's first use notes when it was used
    for day in range(1, 6):
        team.slot(_ahead(day), status="in_review")
    # The token, its person's memberships, the posts, their labels: whatever their number.
    with django_assert_num_queries(4):
        answer = manager_api.get(REVIEW)
    assert len(answer.json()["data"]) == 5


def test_an_editor_has_no_review_queue(team, editor_api):
    answer = editor_api.get(REVIEW)
    assert answer.status_code == 403
    assert answer.json()["error"]["message"] == "Only a manager can review drafts."


def test_another_workspaces_drafts_are_not_in_its_queue(team, outsider_api):
    team.slot(_ahead(2), status="in_review")
    assert outsider_api.get(REVIEW).json()["data"] == []


def test_a_manager_approves_a_draft_and_scripe_schedules_it(team, wired, manager_api):
    slot = written_draft(team)
    answer = manager_api.post(_post(slot, "approve"))
    assert answer.status_code == 200, answer.json()
    assert answer.json()["message"] == "Approved: scheduled in Scripe."
    assert answer.json()["data"]["status"] == "scheduled"
    event = SlotEvent.objects.filter(slot=slot).last()
    assert event.who == "Max via API (CRM sync)"


def test_an_editor_cannot_approve(team, wired, editor_api, api_for):
    slot = written_draft(team)
    answer = editor_api.post(_post(slot, "approve"))
    assert answer.status_code == 403
    assert answer.json()["error"]["code"] == "scope_missing"
    # A manager's token without the review scope cannot either.
    planner = api_for(team.manager, scopes=["read", "plan"])
    assert planner.post(_post(slot, "approve")).json()["error"]["code"] == "scope_missing"
    slot.refresh_from_db()
    assert slot.status == "in_review"


def test_no_self_approval_refuses_a_manager_who_changed_the_text(team, wired, manager_api):
    team.workspace.no_self_approval = True
    team.workspace.save()
    slot = written_draft(team)
    answer = manager_api.post(_post(slot, "approve"), {"content": "My own better version."})
    assert answer.status_code == 403
    assert answer.json()["error"]["code"] == "forbidden"
    assert answer.json()["error"]["message"].startswith(
        "This workspace asks for a second pair of eyes: you changed the text"
    )
    slot.refresh_from_db()
    assert slot.status == "in_review"


def test_a_decision_that_lost_the_race_is_a_409_saying_who_won(
    team, wired, manager_api, api_for, monkeypatch
):
    slot = written_draft(team)
    # The manager's request read the draft while it was still in review…
    seen = access.slot_visible_to(access.viewer_of(team.manager), slot.public_id)
    # …and the admin rejected it before the approval's conditional UPDATE ran.
    admin_api = api_for(team.admin)
    assert admin_api.post(_post(slot, "reject"), {"reason": "Off brand."}).status_code == 200
    monkeypatch.setattr(access, "slot_visible_to", lambda viewer, public_id: seen)
    answer = manager_api.post(_post(slot, "approve"))
    assert answer.status_code == 409, answer.json()
    error = answer.json()["error"]
    assert error["code"] == "conflict"
    assert "already rejected it" in error["message"]
    assert "your change was not made" in error["message"]
    assert PlannedSlot.objects.get(pk=slot.pk).status == "rejected"


def test_a_decision_on_a_post_already_decided_is_a_409(team, wired, manager_api):
    slot = written_draft(team)
    manager_api.post(_post(slot, "reject"), {"reason": "Off brand."})
    answer = manager_api.post(_post(slot, "request-changes"), {"comment": "Shorter."})
    assert answer.status_code == 409
    assert "already rejected it" in answer.json()["error"]["message"]


def test_a_manager_requests_changes_with_a_comment(team, wired, manager_api):
    slot = written_draft(team)
    answer = manager_api.post(_post(slot, "request-changes"), {"comment": "Make it shorter."})
    assert answer.status_code == 200, answer.json()
    assert answer.json()["message"] == "Changes requested: Scripe is writing a new version."
    assert answer.json()["data"]["status"] == "queued"
    assert answer.json()["data"]["generation"]["attempt"] == 2


def test_a_request_for_changes_needs_a_comment(team, wired, manager_api):
    slot = written_draft(team)
    answer = manager_api.post(_post(slot, "request-changes"), {"comment": "  "})
    assert answer.status_code == 422
    assert answer.json()["error"]["fields"] == {
        "comment": "Say what should change, so Scripe can do it."
    }
    slot.refresh_from_db()
    assert slot.status == "in_review"


def test_a_manager_rejects_with_a_reason(team, wired, manager_api):
    slot = written_draft(team)
    assert manager_api.post(_post(slot, "reject"), {"reason": ""}).status_code == 422
    answer = manager_api.post(_post(slot, "reject"), {"reason": "Not our voice."})
    assert answer.status_code == 200, answer.json()
    assert answer.json()["data"]["status"] == "rejected"
    assert answer.json()["data"]["statusNote"] == "Not our voice."


def test_another_workspaces_post_is_not_there_for_any_decision(team, outsider_api):
    slot = team.slot(_ahead(2), status="in_review")
    for action, body in [
        ("approve", {}),
        ("request-changes", {"comment": "Shorter."}),
        ("reject", {"reason": "No."}),
        ("reschedule", {"scheduledFor": _ahead(4).isoformat()}),
        ("unschedule", {}),
    ]:
        answer = outsider_api.post(_post(slot, action), body)
        assert answer.status_code == 404, action
        assert answer.json()["error"]["code"] == "not_found"
    slot.refresh_from_db()
    assert slot.status == "in_review"


def test_a_manager_reschedules_a_scheduled_post_in_scripe(team, scheduled, manager_api):
    later = scheduled.scheduled_for + timedelta(days=1)
    answer = manager_api.post(_post(scheduled, "reschedule"), {"scheduledFor": later.isoformat()})
    assert answer.status_code == 200, answer.json()
    assert answer.json()["message"].startswith("Rescheduled to ")
    scheduled.refresh_from_db()
    assert scheduled.scheduled_for == later
    assert scheduled.status == "scheduled"


def test_a_reschedule_off_the_grid_says_why_next_to_the_field(team, scheduled, manager_api):
    odd = scheduled.scheduled_for + timedelta(minutes=7)
    answer = manager_api.post(_post(scheduled, "reschedule"), {"scheduledFor": odd.isoformat()})
    assert answer.status_code == 422
    assert "15-minute step" in answer.json()["error"]["fields"]["scheduledFor"]


def test_a_manager_unschedules_a_scheduled_post(team, scheduled, manager_api):
    answer = manager_api.post(_post(scheduled, "unschedule"))
    assert answer.status_code == 200, answer.json()
    assert answer.json()["data"]["status"] == "in_review"
    again = manager_api.post(_post(scheduled, "unschedule"))
    assert again.status_code == 409
    message = again.json()["error"]["message"]
    assert message == "Only a post scheduled in Scripe can be changed here."


def test_an_editor_cannot_change_a_scheduled_post(team, scheduled, editor_api):
    answer = editor_api.post(_post(scheduled, "unschedule"))
    assert answer.status_code == 403
    scheduled.refresh_from_db()
    assert scheduled.status == "scheduled"


def test_a_decision_takes_only_post(team, manager_api):
    slot = team.slot(_ahead(2), status="in_review")
    assert manager_api.get(_post(slot, "approve")).status_code == 405
