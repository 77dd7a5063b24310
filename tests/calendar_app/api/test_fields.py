"""The API's own field types at every way in: a day or a time outside the years the calendar
shows (year 1, year 9999) is the pages' sentence next to the field, never a 500 from a date
that overflows when it is turned into the person's zone."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from calendar_app.models import Idea, PlannedSlot, Series

pytestmark = pytest.mark.django_db

POSTS = "/api/v1/posts/"
RANGE = "Pick a day between 1970 and 2200."
FAR = ["9999-12-31T23:45:00Z", "9999-12-31T23:45:00-05:00", "0001-01-01T00:00:00+05:00"]


def _ahead():
    return (timezone.now() + timedelta(days=3)).replace(minute=0, second=0, microsecond=0)


def _refused(answer, field: str = "scheduledFor") -> None:
    assert answer.status_code == 400, answer.content
    error = answer.json()["error"]
    assert error["code"] == "invalid_request"
    assert error["fields"][field] == RANGE


@pytest.mark.parametrize("field", ["dateFrom", "dateTo"])
@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01"])
def test_the_posts_list_refuses_a_day_out_of_range(editor_api, field, day):
    _refused(editor_api.get(POSTS, {field: day}), field)


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01"])
def test_the_review_queue_refuses_a_day_out_of_range(manager_api, day):
    _refused(manager_api.get("/api/v1/review/", {"dateFrom": day}), "dateFrom")


@pytest.mark.parametrize("when", FAR)
def test_a_post_is_not_planned_out_of_range(team, editor_api, when):
    body = {"projectId": team.project.scripe_id, "noteText": "A note.", "scheduledFor": when}
    _refused(editor_api.post(POSTS, body))
    assert not PlannedSlot.objects.exists()


@pytest.mark.parametrize("when", FAR)
def test_a_post_is_not_changed_or_moved_out_of_range(team, editor_api, when):
    slot = team.slot(_ahead())
    before = slot.scheduled_for
    _refused(editor_api.patch(f"{POSTS}{slot.public_id}/", {"scheduledFor": when}))
    _refused(editor_api.post(f"{POSTS}{slot.public_id}/move/", {"scheduledFor": when}))
    slot.refresh_from_db()
    assert slot.scheduled_for == before


def test_a_post_is_not_moved_to_a_day_out_of_range(team, editor_api):
    slot = team.slot(_ahead())
    answer = editor_api.post(f"{POSTS}{slot.public_id}/move/", {"date": "9999-12-31"})
    _refused(answer, "date")


@pytest.mark.parametrize("when", FAR)
def test_a_scheduled_post_is_not_rescheduled_out_of_range(scheduled, manager_api, when):
    before = scheduled.scheduled_for
    answer = manager_api.post(f"{POSTS}{scheduled.public_id}/reschedule/", {"scheduledFor": when})
    _refused(answer)
    scheduled.refresh_from_db()
    assert scheduled.scheduled_for == before


@pytest.mark.parametrize("when", FAR)
def test_an_idea_is_not_planned_out_of_range(team, editor_api, when):
    idea = editor_api.post("/api/v1/ideas/", {"text": "Plan on Fridays."}).json()["data"]
    _refused(editor_api.post(f"/api/v1/ideas/{idea['id']}/plan/", {"scheduledFor": when}))
    assert Idea.objects.get(public_id=idea["id"]).state == "new"
    assert not PlannedSlot.objects.exists()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"scheduledFor": "9999-12-31T23:45:00Z"}, "scheduledFor"),
        ({"until": "9999-12-31"}, "until"),
    ],
)
def test_a_series_is_not_planned_out_of_range(team, editor_api, changes, field):
    body = {
        "projectId": team.project.scripe_id,
        "noteText": "A tip of the week.",
        "scheduledFor": "2199-01-05T09:00:00Z",
        "frequency": "weekly",
        **changes,
    }
    _refused(editor_api.post("/api/v1/series/", body), field)
    assert not Series.objects.exists()
