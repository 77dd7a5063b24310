"""The posts resource: the All posts list and its filters, plan, change, move, delete, restore,
Generate and Cancel, for each role and from another workspace."""

from __future__ import annotations

from datetime import UTC, timedelta

import pytest
from django.utils import timezone

from calendar_app.models import Label, PlannedSlot, SlotEvent

pytestmark = pytest.mark.django_db

POSTS = "/api/v1/posts/"


def _ahead(days: int = 3):
    when = timezone.now() + timedelta(days=days)
    return when.replace(minute=0, second=0, microsecond=0)


def _plan(team, **changes) -> dict:
    return {
        "projectId": team.project.scripe_id,
        "noteText": "Why our team writes every post twice.",
        "language": "en",
        "scheduledFor": _ahead().isoformat(),
        **changes,
    }


def test_it_plans_a_post_as_the_tokens_person(team, editor_api):
    answer = editor_api.post(POSTS, _plan(team))
    assert answer.status_code == 201, answer.json()
    post = answer.json()["data"]
    slot = PlannedSlot.objects.get(public_id=post["id"])
    assert slot.created_by == team.editor
    assert post["status"] == "draft"
    assert post["project"] == {"id": team.project.scripe_id, "name": team.project.name}
    assert post["note"]["text"] == "Why our team writes every post twice."
    assert post["scheduledFor"] == _ahead().astimezone(UTC).isoformat().replace("+00:00", "Z")


def test_the_trail_says_it_came_through_the_api(team, editor_api):
    post = editor_api.post(POSTS, _plan(team)).json()["data"]
    event = SlotEvent.objects.get(slot__public_id=post["id"])
    assert event.who == "Erin via API (CRM sync)"


def test_it_refuses_a_time_in_the_past_with_the_pages_sentence(team, editor_api):
    past = (timezone.now() - timedelta(days=2)).replace(minute=0, second=0, microsecond=0)
    answer = editor_api.post(POSTS, _plan(team, scheduledFor=past.isoformat(), noteText=""))
    assert answer.status_code == 422
    error = answer.json()["error"]
    assert error["code"] == "invalid"
    assert "has passed" in error["fields"]["scheduledFor"]
    assert error["fields"]["noteText"] == "Write the note Scripe should turn into a post."
    assert not PlannedSlot.objects.exists()


def test_it_refuses_a_body_that_does_not_parse(team, editor_api):
    answer = editor_api.post(POSTS, _plan(team, scheduledFor="next tuesday"))
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "invalid_request"
    assert "scheduledFor" in answer.json()["error"]["fields"]
    assert not PlannedSlot.objects.exists()


def test_another_workspaces_project_is_not_there(team, editor_api):
    answer = editor_api.post(POSTS, _plan(team, projectId=team.foreign_project.scripe_id))
    assert answer.status_code == 422
    assert "projectId" in answer.json()["error"]["fields"]


def test_it_lists_posts_with_the_all_posts_filters(team, editor_api):
    label = Label.objects.create(workspace=team.workspace, name="Launch")
    tagged = team.slot(_ahead(2))
    tagged.labels.add(label)
    team.slot(_ahead(4), status="failed")
    team.slot(_ahead(5), project=team.foreign_project)
    everything = editor_api.get(POSTS).json()
    assert everything["data"][0]["id"] == str(tagged.public_id)
    assert len(everything["data"]) == 2
    assert everything["nextCursor"] is None
    failed = editor_api.get(POSTS, {"status": "failed"}).json()["data"]
    assert [p["status"] for p in failed] == ["failed"]
    by_label = editor_api.get(POSTS, {"labelId": str(label.public_id)}).json()["data"]
    assert [p["id"] for p in by_label] == [str(tagged.public_id)]
    assert by_label[0]["labels"] == [{"id": str(label.public_id), "name": "Launch", "colour": 0}]
    day = timezone.localtime(_ahead(4), team.workspace.zone).date().isoformat()
    dated = editor_api.get(POSTS, {"dateFrom": day, "dateTo": day}).json()["data"]
    assert [p["status"] for p in dated] == ["failed"]


def test_it_pages_with_a_cursor_in_a_constant_number_of_queries(
    team, editor_api, django_assert_max_num_queries
):
    for day in range(1, 8):
        team.slot(_ahead(day)).labels.add(
            Label.objects.get_or_create(workspace=team.workspace, name=f"L{day}")[0]
        )
    seen = []
    cursor = None
    # Token, its person's memberships, the rate limit (a cache), the posts, their labels.
    with django_assert_max_num_queries(6):
        first = editor_api.get(POSTS, {"limit": 3}).json()
    seen += [p["id"] for p in first["data"]]
    cursor = first["nextCursor"]
    while cursor:
        page = editor_api.get(POSTS, {"limit": 3, "cursor": cursor}).json()
        seen += [p["id"] for p in page["data"]]
        cursor = page["nextCursor"]
    assert len(seen) == len(set(seen)) == 7


def test_a_bad_cursor_or_limit_is_a_400(editor_api):
    assert editor_api.get(POSTS, {"cursor": "nonsense"}).json()["error"]["code"] == "bad_cursor"
    assert editor_api.get(POSTS, {"limit": 0}).json()["error"]["code"] == "bad_pagination"
    assert editor_api.get(POSTS, {"limit": 201}).status_code == 400


def test_it_changes_a_draft(team, editor_api):
    slot = team.slot(_ahead())
    answer = editor_api.patch(f"{POSTS}{slot.public_id}/", {"noteText": "A sharper idea."})
    assert answer.status_code == 200, answer.json()
    assert answer.json()["data"]["note"]["text"] == "A sharper idea."
    assert answer.json()["data"]["scheduledFor"].startswith(
        slot.scheduled_for.strftime("%Y-%m-%dT%H:%M")
    )


def test_it_refuses_to_change_a_post_in_review(team, editor_api):
    slot = team.slot(_ahead(), status="in_review")
    answer = editor_api.patch(f"{POSTS}{slot.public_id}/", {"noteText": "A sharper idea."})
    assert answer.status_code == 409
    assert answer.json()["error"] == {
        "code": "conflict",
        "message": "The draft is waiting for review.",
        "fields": {},
    }


def test_it_moves_a_draft_to_another_day_keeping_its_time(team, editor_api):
    slot = team.slot(_ahead(3))
    day = (timezone.localtime(slot.scheduled_for, team.workspace.zone) + timedelta(days=1)).date()
    answer = editor_api.post(f"{POSTS}{slot.public_id}/move/", {"date": day.isoformat()})
    assert answer.status_code == 200, answer.json()
    slot.refresh_from_db()
    assert slot.scheduled_for == _ahead(4)


def test_an_editor_cannot_move_a_scheduled_post(team, editor_api):
    slot = team.slot(_ahead(3), status="scheduled")
    answer = editor_api.post(f"{POSTS}{slot.public_id}/move/", {"date": "2030-01-01"})
    assert answer.status_code == 403
    assert answer.json()["error"]["message"] == "Only a manager can change scheduled posts."


def test_it_deletes_and_restores_a_post(team, editor_api):
    slot = team.slot(_ahead())
    assert editor_api.delete(f"{POSTS}{slot.public_id}/").status_code == 204
    assert editor_api.get(f"{POSTS}{slot.public_id}/").status_code == 404
    answer = editor_api.post(f"{POSTS}{slot.public_id}/restore/")
    assert answer.status_code == 200
    assert answer.json()["data"]["id"] == str(slot.public_id)


def test_a_restore_after_the_undo_time_is_gone(team, editor_api, time_machine):
    slot = team.slot(_ahead())
    editor_api.delete(f"{POSTS}{slot.public_id}/")
    time_machine.move_to(timezone.now() + timedelta(seconds=30))
    answer = editor_api.post(f"{POSTS}{slot.public_id}/restore/")
    assert answer.status_code == 410
    assert answer.json()["error"]["code"] == "gone"


def test_another_workspaces_post_is_not_there(team, outsider_api):
    slot = team.slot(_ahead())
    for answer in [
        outsider_api.get(f"{POSTS}{slot.public_id}/"),
        outsider_api.patch(f"{POSTS}{slot.public_id}/", {"noteText": "Mine now."}),
        outsider_api.delete(f"{POSTS}{slot.public_id}/"),
        outsider_api.post(f"{POSTS}{slot.public_id}/move/", {"date": "2030-01-01"}),
        outsider_api.post(f"{POSTS}{slot.public_id}/restore/"),
        outsider_api.post(f"{POSTS}{slot.public_id}/generate/"),
        outsider_api.post(f"{POSTS}{slot.public_id}/cancel/"),
    ]:
        assert answer.status_code == 404
        assert answer.json()["error"]["code"] == "not_found"
    assert outsider_api.get(POSTS).json()["data"] == []
    slot.refresh_from_db()
    assert slot.deleted_at is None


def test_a_read_token_cannot_write(team, api_for):
    api = api_for(team.editor, scopes=["read"])
    assert api.get(POSTS).status_code == 200
    answer = api.post(POSTS, _plan(team))
    assert answer.status_code == 403
    assert answer.json()["error"]["code"] == "scope_missing"
    assert not PlannedSlot.objects.exists()


def test_it_generates_a_draft_and_cancels_it(team, wired, editor_api):
    slot = team.slot(_ahead())
    answer = editor_api.post(f"{POSTS}{slot.public_id}/generate/")
    assert answer.status_code == 202, answer.json()
    assert answer.json()["data"]["status"] == "queued"
    assert answer.json()["data"]["generation"]["attempt"] == 1
    answer = editor_api.post(f"{POSTS}{slot.public_id}/cancel/")
    assert answer.status_code == 200, answer.json()
    assert answer.json()["data"]["status"] == "cancelled"
    who = [e.who for e in SlotEvent.objects.filter(slot=slot)]
    # Cancelling is recorded as Scripe's answer, as on the pages.
    assert who == ["Erin via API (CRM sync)", "Scripe"]


def test_cancel_of_a_post_not_being_written_is_a_conflict(team, editor_api):
    slot = team.slot(_ahead())
    answer = editor_api.post(f"{POSTS}{slot.public_id}/cancel/")
    assert answer.status_code == 409
    assert (
        answer.json()["error"]["message"] == "Only a generation that is under way can be cancelled."
    )
