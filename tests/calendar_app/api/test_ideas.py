"""The ideas board through the API: add, list by state and project, show, change, plan on a
time or at the queue, dismiss and restore; the board's rules under the API's names; roles,
scopes and tenants (another workspace's ids are not there)."""

from __future__ import annotations

from datetime import time as clock
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from calendar_app.models import Idea, PlannedSlot, ScheduleTime

pytestmark = pytest.mark.django_db

IDEAS = "/api/v1/ideas/"


def _later(team, days=3, hour=10):
    when = (timezone.now() + timedelta(days=days)).astimezone(team.workspace.zone)
    return when.replace(hour=hour, minute=0, second=0, microsecond=0)


def _idea(api, team, **changes):
    body = {"text": "Why we plan on Fridays.", "projectId": team.project.scripe_id, **changes}
    answer = api.post(IDEAS, body)
    assert answer.status_code == 201, answer.json()
    return answer.json()["data"]


def test_an_editor_adds_an_idea_and_finds_it_by_state_and_project(team, editor_api):
    made = _idea(editor_api, team)
    assert (made["state"], made["text"], made["postIds"]) == ("new", "Why we plan on Fridays.", [])
    assert made["project"]["id"] == team.project.scripe_id
    assert made["owner"]
    listed = editor_api.get(IDEAS, {"state": "new", "projectId": team.project.scripe_id})
    assert [i["id"] for i in listed.json()["data"]] == [made["id"]]
    assert editor_api.get(IDEAS, {"state": "used"}).json()["data"] == []
    assert editor_api.get(f"{IDEAS}{made['id']}/").json()["data"]["id"] == made["id"]


def test_the_ideas_rules_answer_under_the_apis_names(team, editor_api):
    answer = editor_api.post(IDEAS, {"text": "", "link": "ftp://example.com"})
    assert answer.status_code == 422
    assert "link" in answer.json()["error"]["fields"]
    assert not Idea.objects.exists()


def test_an_idea_is_changed_and_planned_at_a_time(team, editor_api):
    made = _idea(editor_api, team, projectId=None)
    changed = editor_api.patch(
        f"{IDEAS}{made['id']}/", {"text": "Plan on Fridays.", "projectId": team.project.scripe_id}
    )
    assert changed.status_code == 200, changed.json()
    assert changed.json()["data"]["text"] == "Plan on Fridays."
    when = _later(team)
    planned = editor_api.post(f"{IDEAS}{made['id']}/plan/", {"scheduledFor": when.isoformat()})
    assert planned.status_code == 201, planned.json()
    post = planned.json()["data"]
    assert post["note"]["text"] == "Plan on Fridays."
    assert PlannedSlot.objects.get(public_id=post["id"]).scheduled_for == when
    shown = editor_api.get(f"{IDEAS}{made['id']}/").json()["data"]
    assert (shown["state"], shown["postIds"]) == ("used", [post["id"]])


def test_a_time_in_the_past_is_refused_and_nothing_planned(team, editor_api):
    made = _idea(editor_api, team)
    past = timezone.now() - timedelta(days=1)
    answer = editor_api.post(f"{IDEAS}{made['id']}/plan/", {"scheduledFor": past.isoformat()})
    assert answer.status_code == 422
    assert "scheduledFor" in answer.json()["error"]["fields"]
    assert not PlannedSlot.objects.exists()


def test_an_idea_is_queued_at_the_next_schedule_time(team, editor_api):
    for weekday in range(7):
        ScheduleTime.objects.create(project=team.project, weekday=weekday, time=clock(9))
    made = _idea(editor_api, team)
    answer = editor_api.post(f"{IDEAS}{made['id']}/queue/", {})
    assert answer.status_code == 201, answer.json()
    assert answer.json()["message"] == "Queued."
    assert answer.json()["data"]["note"]["text"] == "Why we plan on Fridays."


def test_only_a_manager_dismisses_and_restores(team, editor_api, manager_api):
    made = _idea(editor_api, team)
    refused = editor_api.post(f"{IDEAS}{made['id']}/dismiss/")
    assert refused.status_code == 403
    assert Idea.objects.get().state == "new"
    dismissed = manager_api.post(f"{IDEAS}{made['id']}/dismiss/")
    assert dismissed.json()["data"]["state"] == "dismissed"
    when = {"scheduledFor": _later(team).isoformat()}
    again = manager_api.post(f"{IDEAS}{made['id']}/plan/", when)
    assert again.status_code == 409
    restored = manager_api.post(f"{IDEAS}{made['id']}/restore/")
    assert restored.json()["data"]["state"] == "new"


def test_a_read_token_cannot_add_or_plan(team, api_for):
    api = api_for(team.editor, scopes=["read"])
    answer = api.post(IDEAS, {"text": "An idea."})
    assert answer.json()["error"]["code"] == "scope_missing"
    assert not Idea.objects.exists()


def test_another_workspaces_ideas_are_not_there(team, editor_api, outsider_api):
    made = _idea(editor_api, team)
    for path in ("", "plan/", "queue/", "dismiss/", "restore/"):
        url = f"{IDEAS}{made['id']}/{path}"
        answer = outsider_api.get(url) if not path else outsider_api.post(url, {})
        assert answer.status_code == 404, (path, answer.json())
    assert outsider_api.patch(f"{IDEAS}{made['id']}/", {"text": "Mine"}).status_code == 404
    assert outsider_api.get(IDEAS).json()["data"] == []
    assert Idea.objects.get().text == "Why we plan on Fridays."


def _queries(api, path) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert api.get(path).status_code == 200
    return len(queries)


def test_the_list_costs_the_same_queries_for_many_ideas(team, editor_api):
    _idea(editor_api, team, text="Idea 0")
    few = _queries(editor_api, IDEAS)
    for n in range(1, 8):
        _idea(editor_api, team, text=f"Idea {n}")
    assert _queries(editor_api, IDEAS) == few


def test_a_hook_on_the_board_names_its_source_and_plans_as_that_hook(team, editor_api):
    from calendar_app.models import HookPlan
    from calendar_app.sources.services import hooks_to_board
    from tests.calendar_app.sources.conftest import ready_source

    source = ready_source(team)
    [idea] = hooks_to_board(user=team.editor, source=source, hook_ids=["hk_c"]).added
    shown = editor_api.get(f"{IDEAS}{idea.public_id}/").json()["data"]
    assert (shown["sourceId"], shown["hookId"]) == (str(source.public_id), "hk_c")
    url = f"{IDEAS}{idea.public_id}/plan/"
    planned = editor_api.post(url, {"scheduledFor": _later(team).isoformat()})
    assert planned.status_code == 201, planned.json()
    assert str(HookPlan.objects.get().slot.public_id) == planned.json()["data"]["id"]
    twice = editor_api.post(url, {"scheduledFor": _later(team, days=4).isoformat()})
    assert twice.status_code == 409
    assert "one hook makes one post" in twice.json()["error"]["message"]
