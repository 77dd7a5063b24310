"""Recurring series through the API: plan one, list them, show one with its occurrences; the
series rules' sentences under the API's names; scopes and tenants."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from calendar_app.models import PlannedSlot, Series

pytestmark = pytest.mark.django_db

SERIES = "/api/v1/series/"


def _weekly(team, **changes) -> dict:
    first = (timezone.now() + timedelta(days=2)).astimezone(team.workspace.zone)
    first = first.replace(hour=9, minute=0, second=0, microsecond=0)
    return {
        "projectId": team.project.scripe_id,
        "noteText": "A tip of the week.",
        "scheduledFor": first.isoformat(),
        "frequency": "weekly",
        "weekdays": [first.weekday()],
        "count": 3,
        **changes,
    }


def test_it_plans_a_weekly_series_and_shows_its_occurrences(team, editor_api):
    answer = editor_api.post(SERIES, _weekly(team))
    assert answer.status_code == 201, answer.json()
    series = answer.json()["data"]
    assert series["frequency"] == "weekly"
    assert series["time"] == "09:00"
    assert series["description"].startswith("every week on ")
    assert [o["index"] for o in series["occurrences"]] == [1, 2, 3]
    posts = PlannedSlot.objects.filter(occurrence__series__public_id=series["id"])
    assert posts.count() == 3
    assert {p.scheduled_for.astimezone(team.workspace.zone).hour for p in posts} == {9}
    shown = editor_api.get(f"{SERIES}{series['id']}/").json()["data"]
    assert shown["occurrences"] == series["occurrences"]
    listed = editor_api.get(SERIES).json()["data"]
    assert [s["id"] for s in listed] == [series["id"]]


def test_the_series_rules_answer_under_the_apis_names(team, editor_api):
    answer = editor_api.post(SERIES, _weekly(team, weekdays=[], noteText=""))
    assert answer.status_code == 422
    assert answer.json()["error"]["fields"] == {
        "weekdays": "Pick the weekdays it repeats on.",
        "noteText": "Write the note Scripe should turn into a post.",
    }
    assert not Series.objects.exists()


def test_a_read_token_cannot_plan_a_series(team, api_for):
    api = api_for(team.editor, scopes=["read"])
    assert api.post(SERIES, _weekly(team)).json()["error"]["code"] == "scope_missing"
    assert not Series.objects.exists()


def test_another_workspaces_series_is_not_there(team, editor_api, outsider_api):
    made = editor_api.post(SERIES, _weekly(team)).json()["data"]
    assert outsider_api.get(f"{SERIES}{made['id']}/").status_code == 404
    assert outsider_api.get(SERIES).json()["data"] == []
    answer = outsider_api.post(SERIES, _weekly(team))
    assert answer.status_code == 422
    assert "projectId" in answer.json()["error"]["fields"]


def test_a_series_is_changed_on_its_posts_not_here(team, editor_api):
    made = editor_api.post(SERIES, _weekly(team)).json()["data"]
    assert editor_api.post(f"{SERIES}{made['id']}/", _weekly(team)).status_code == 405
    assert editor_api.delete(SERIES).status_code == 405
