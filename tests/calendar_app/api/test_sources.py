"""Sources through the API: add a text or a link, list and show (what Scripe made of it:
preview, duration, topics and hooks with their posts), plan posts from hooks (the same hooks
plan nothing twice); the rules under the API's names; roles, scopes and tenants."""

from __future__ import annotations

from datetime import time as clock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from calendar_app.models import HookPlan, ScheduleTime, Source
from tests.calendar_app.sources.conftest import ready_source

pytestmark = pytest.mark.django_db

SOURCES = "/api/v1/sources/"


@pytest.fixture(autouse=True)
def _source_dir(settings, tmp_path):
    settings.SOURCE_UPLOAD_DIR = str(tmp_path / "sources")


@pytest.fixture
def queue_daily(team):
    for weekday in range(7):
        ScheduleTime.objects.create(project=team.project, weekday=weekday, time=clock(9))


def test_an_editor_adds_a_text_and_follows_it(team, editor_api):
    answer = editor_api.post(
        SOURCES, {"projectId": team.project.scripe_id, "text": "We hired three people."}
    )
    assert answer.status_code == 201, answer.json()
    made = answer.json()["data"]
    assert (made["kind"], made["status"], made["topics"]) == ("text", "received", [])
    assert editor_api.get(f"{SOURCES}{made['id']}/").json()["data"]["id"] == made["id"]
    assert [s["id"] for s in editor_api.get(SOURCES).json()["data"]] == [made["id"]]


def test_a_text_and_a_link_together_or_a_private_link_are_refused(team, editor_api, settings):
    settings.SCRIPE_ALLOW_LOCAL_HOSTS = False
    both = editor_api.post(
        SOURCES,
        {"projectId": team.project.scripe_id, "text": "Words.", "url": "https://example.com/"},
    )
    assert both.status_code == 422
    assert "url" in both.json()["error"]["fields"]
    private = editor_api.post(
        SOURCES, {"projectId": team.project.scripe_id, "url": "http://127.0.0.1/admin"}
    )
    assert private.status_code == 422
    assert "url" in private.json()["error"]["fields"]
    empty = editor_api.post(SOURCES, {"projectId": team.project.scripe_id})
    assert empty.json()["error"]["fields"] == {
        "text": "Paste the text Scripe should take ideas from."
    }
    assert not Source.objects.exists()


def test_a_ready_source_shows_its_preview_duration_topics_and_hooks(team, editor_api):
    source = ready_source(team)
    shown = editor_api.get(f"{SOURCES}{source.public_id}/").json()["data"]
    assert shown["status"] == "ready"
    assert shown["durationSeconds"] == 482
    assert shown["textPreview"].startswith("Most teams plan")
    assert [t["id"] for t in shown["topics"]] == ["tpc_1", "tpc_2"]
    hooks = [h for t in shown["topics"] for h in t["hooks"]]
    assert [(h["id"], h["postId"]) for h in hooks] == [
        ("hk_a", None),
        ("hk_b", None),
        ("hk_c", None),
    ]


def test_hooks_are_planned_once_however_often_asked(team, editor_api, queue_daily):
    source = ready_source(team)
    url = f"{SOURCES}{source.public_id}/plan/"
    first = editor_api.post(url, {"hookIds": ["hk_a", "hk_c"]})
    assert first.status_code == 200, first.json()
    assert [o["planned"] for o in first.json()["data"]] == [True, True]
    assert first.json()["message"] == "2 posts planned at the next queue times."
    again = editor_api.post(url, {"hookIds": ["hk_a", "hk_b"]})
    outcomes = again.json()["data"]
    assert [(o["hookId"], o["planned"]) for o in outcomes] == [("hk_a", False), ("hk_b", True)]
    assert outcomes[0]["post"]["id"] == first.json()["data"][0]["post"]["id"]
    assert HookPlan.objects.count() == 3
    shown = editor_api.get(f"{SOURCES}{source.public_id}/").json()["data"]
    assert all(h["postId"] for t in shown["topics"] for h in t["hooks"])


def test_unknown_hooks_or_a_source_not_ready_plan_nothing(team, editor_api, queue_daily):
    source = ready_source(team)
    unknown = editor_api.post(f"{SOURCES}{source.public_id}/plan/", {"hookIds": ["hk_zz"]})
    assert unknown.status_code == 422
    assert "hookIds" in unknown.json()["error"]["fields"]
    Source.objects.filter(pk=source.pk).update(status="ingesting")
    early = editor_api.post(f"{SOURCES}{source.public_id}/plan/", {"hookIds": ["hk_a"]})
    assert early.status_code == 409
    assert not HookPlan.objects.exists()


def test_a_read_token_cannot_add_or_plan(team, api_for, queue_daily):
    api = api_for(team.editor, scopes=["read"])
    source = ready_source(team)
    answer = api.post(f"{SOURCES}{source.public_id}/plan/", {"hookIds": ["hk_a"]})
    assert answer.json()["error"]["code"] == "scope_missing"
    assert api.get(f"{SOURCES}{source.public_id}/").status_code == 200
    assert not HookPlan.objects.exists()


def test_another_workspaces_sources_are_not_there(team, outsider_api, queue_daily):
    source = ready_source(team)
    assert outsider_api.get(f"{SOURCES}{source.public_id}/").status_code == 404
    planned = outsider_api.post(f"{SOURCES}{source.public_id}/plan/", {"hookIds": ["hk_a"]})
    assert planned.status_code == 404
    assert outsider_api.get(SOURCES).json()["data"] == []
    made = outsider_api.post(SOURCES, {"projectId": team.project.scripe_id, "text": "Mine."})
    assert made.status_code == 422
    assert not HookPlan.objects.exists()
    assert Source.objects.count() == 1


def _queries(api, path) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert api.get(path).status_code == 200
    return len(queries)


def test_the_list_costs_the_same_queries_for_many_sources(team, editor_api, queue_daily):
    editor_api.post(f"{SOURCES}{ready_source(team).public_id}/plan/", {"hookIds": ["hk_a"]})
    few = _queries(editor_api, SOURCES)
    for _ in range(5):
        source = ready_source(team)
        editor_api.post(f"{SOURCES}{source.public_id}/plan/", {"hookIds": ["hk_b"]})
    assert _queries(editor_api, SOURCES) == few
