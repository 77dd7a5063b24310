"""A post's trail through the API: who did what, and the way they came."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

pytestmark = pytest.mark.django_db


def _ahead(days: int = 3):
    return (timezone.now() + timedelta(days=days)).replace(minute=0, second=0, microsecond=0)


def test_it_shows_who_did_what_oldest_first(team, editor_api):
    answer = editor_api.post(
        "/api/v1/posts/",
        {
            "projectId": team.project.scripe_id,
            "noteText": "An idea.",
            "scheduledFor": _ahead().isoformat(),
        },
    )
    post = answer.json()["data"]["id"]
    editor_api.patch(f"/api/v1/posts/{post}/", {"noteText": "A better idea."})
    trail = editor_api.get(f"/api/v1/posts/{post}/trail/")
    assert trail.status_code == 200, trail.json()
    events = trail.json()["data"]
    assert events[0]["kind"] == "status"
    assert events[0]["status"] == "draft"
    assert events[0]["text"] == "Planned."
    assert events[0]["who"] == "Erin via API (CRM sync)"
    assert trail.json()["nextCursor"] is None


def test_another_workspaces_trail_is_not_there(team, outsider_api):
    slot = team.slot(_ahead())
    answer = outsider_api.get(f"/api/v1/posts/{slot.public_id}/trail/")
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "not_found"
