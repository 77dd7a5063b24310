"""Workspaces, projects and labels: what each role may read and change, and that another
workspace's ids are not there."""

from __future__ import annotations

import pytest

from calendar_app.models import Label

pytestmark = pytest.mark.django_db


def test_workspaces_are_the_tokens_one_with_the_callers_role(team, manager_api):
    answer = manager_api.get("/api/v1/workspaces/")
    assert answer.status_code == 200
    assert answer.json() == {
        "data": [
            {
                "id": str(team.workspace.public_id),
                "name": "Acme",
                "timeZone": "Europe/Berlin",
                "reviewRequired": True,
                "noSelfApproval": False,
                "role": "manager",
            }
        ],
        "nextCursor": None,
    }
    one = manager_api.get(f"/api/v1/workspaces/{team.workspace.public_id}/")
    assert one.json()["data"]["name"] == "Acme"


def test_another_workspace_is_not_there(team, manager_api):
    answer = manager_api.get(f"/api/v1/workspaces/{team.other_workspace.public_id}/")
    assert answer.status_code == 404


def test_projects_are_the_workspaces_by_scripe_id(team, editor_api):
    listed = editor_api.get("/api/v1/projects/").json()["data"]
    assert [p["id"] for p in listed] == [team.project.scripe_id, team.paused.scripe_id]
    paused = editor_api.get(f"/api/v1/projects/{team.paused.scripe_id}/").json()["data"]
    assert paused["active"] is False
    assert "paused in Scripe" in paused["inactiveReason"]
    foreign = editor_api.get(f"/api/v1/projects/{team.foreign_project.scripe_id}/")
    assert foreign.status_code == 404


def test_anyone_reads_the_labels(team, editor_api, outsider_api):
    label = Label.objects.create(workspace=team.workspace, name="Launch", colour=2)
    listed = editor_api.get("/api/v1/labels/").json()["data"]
    assert listed == [{"id": str(label.public_id), "name": "Launch", "colour": 2}]
    assert outsider_api.get("/api/v1/labels/").json()["data"] == []
    assert outsider_api.get(f"/api/v1/labels/{label.public_id}/").status_code == 404


def test_a_manager_adds_changes_and_deletes_a_label(team, manager_api):
    made = manager_api.post("/api/v1/labels/", {"name": "Hiring", "colour": 1})
    assert made.status_code == 201, made.json()
    label_id = made.json()["data"]["id"]
    changed = manager_api.patch(f"/api/v1/labels/{label_id}/", {"colour": 3})
    assert changed.json()["data"] == {"id": label_id, "name": "Hiring", "colour": 3}
    assert manager_api.delete(f"/api/v1/labels/{label_id}/").status_code == 204
    assert not Label.objects.exists()


def test_a_label_name_is_checked_by_the_labels_rules(team, manager_api):
    Label.objects.create(workspace=team.workspace, name="Hiring")
    answer = manager_api.post("/api/v1/labels/", {"name": "hiring", "colour": 0})
    assert answer.status_code == 422
    assert "name" in answer.json()["error"]["fields"]
    assert Label.objects.count() == 1


def test_an_editor_cannot_manage_labels(team, editor_api):
    label = Label.objects.create(workspace=team.workspace, name="Launch")
    made = editor_api.post("/api/v1/labels/", {"name": "Hiring", "colour": 1})
    assert made.status_code == 403
    assert made.json()["error"] == {
        "code": "forbidden",
        "message": "Only a manager can manage labels.",
        "fields": {},
    }
    assert editor_api.patch(f"/api/v1/labels/{label.public_id}/", {"colour": 3}).status_code == 403
    assert editor_api.delete(f"/api/v1/labels/{label.public_id}/").status_code == 403
    assert Label.objects.get().colour == 0


def test_another_workspaces_manager_cannot_touch_a_label(team, outsider_api):
    label = Label.objects.create(workspace=team.workspace, name="Launch")
    address = f"/api/v1/labels/{label.public_id}/"
    assert outsider_api.patch(address, {"colour": 3}).status_code == 404
    assert outsider_api.delete(address).status_code == 404
    assert Label.objects.exists()


def test_a_read_token_cannot_add_a_label(team, api_for):
    api = api_for(team.manager, scopes=["read"])
    answer = api.post("/api/v1/labels/", {"name": "Hiring", "colour": 1})
    assert answer.status_code == 403
    assert answer.json()["error"]["code"] == "scope_missing"
