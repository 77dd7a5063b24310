"""A project's queue through the API: add to queue, add to top (a manager's), the list, and
who may do what from where."""

from __future__ import annotations

from datetime import time

import pytest

from calendar_app.models import PlannedSlot
from calendar_app.planning import queue

pytestmark = pytest.mark.django_db


def _queue(project) -> str:
    return f"/api/v1/projects/{project.scripe_id}/queue/"


@pytest.fixture
def scheduled_daily(team):
    queue.schedule_set(project=team.project, schedule=[(d, time(9, 0)) for d in range(7)])
    return team.project


def test_it_adds_posts_to_the_queue_and_lists_them_in_order(team, scheduled_daily, editor_api):
    first = editor_api.post(_queue(team.project), {"noteText": "First idea."})
    assert first.status_code == 201, first.json()
    assert first.json()["message"] == "Queued."
    second = editor_api.post(_queue(team.project), {"noteText": "Second idea."})
    when = [PlannedSlot.objects.get(public_id=a.json()["data"]["id"]) for a in (first, second)]
    local = [w.scheduled_for.astimezone(team.workspace.zone) for w in when]
    assert [t.time() for t in local] == [time(9, 0), time(9, 0)]
    assert local[0] < local[1]
    listed = editor_api.get(_queue(team.project)).json()["data"]
    assert [p["note"]["text"] for p in listed] == ["First idea.", "Second idea."]


def test_a_manager_puts_a_post_at_the_top_moving_the_others_down(
    team, scheduled_daily, editor_api, manager_api
):
    editor_api.post(_queue(team.project), {"noteText": "First idea."})
    answer = manager_api.post(_queue(team.project), {"noteText": "Urgent.", "position": "top"})
    assert answer.status_code == 201, answer.json()
    assert answer.json()["message"] == "Queued first. 1 queued post moved one time later."
    listed = editor_api.get(_queue(team.project)).json()["data"]
    assert [p["note"]["text"] for p in listed] == ["Urgent.", "First idea."]


def test_an_editor_cannot_put_a_post_at_the_top(team, scheduled_daily, editor_api):
    answer = editor_api.post(_queue(team.project), {"noteText": "Mine first.", "position": "top"})
    assert answer.status_code == 403
    sentence = answer.json()["error"]["fields"]["position"]
    assert sentence.startswith("Only a manager can put a post at the top of the queue")
    assert not PlannedSlot.objects.exists()


def test_a_project_without_a_schedule_says_so(team, editor_api):
    answer = editor_api.post(_queue(team.project), {"noteText": "An idea."})
    assert answer.status_code == 422
    assert "has no posting schedule yet" in answer.json()["error"]["fields"]["position"]


def test_the_slot_rules_apply(team, scheduled_daily, editor_api):
    answer = editor_api.post(_queue(team.project), {"noteText": ""})
    assert answer.status_code == 422
    assert answer.json()["error"]["fields"] == {
        "noteText": "Write the note Scripe should turn into a post."
    }


def test_a_read_token_cannot_add_to_the_queue(team, scheduled_daily, api_for):
    api = api_for(team.editor, scopes=["read"])
    assert api.get(_queue(team.project)).status_code == 200
    answer = api.post(_queue(team.project), {"noteText": "An idea."})
    assert answer.status_code == 403
    assert answer.json()["error"]["code"] == "scope_missing"


def test_another_workspaces_queue_is_not_there(team, scheduled_daily, outsider_api):
    assert outsider_api.get(_queue(team.project)).status_code == 404
    answer = outsider_api.post(_queue(team.project), {"noteText": "Mine now."})
    assert answer.status_code == 404
    assert not PlannedSlot.objects.exists()


def test_the_queue_takes_only_get_and_post(team, editor_api):
    answer = editor_api.delete(_queue(team.project))
    assert answer.status_code == 405
    assert answer.json()["error"]["code"] == "method_not_allowed"
