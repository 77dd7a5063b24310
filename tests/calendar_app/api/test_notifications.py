"""The caller's notifications through the API: the token's workspace's only, newest first,
marking one or all read."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from calendar_app.models import Membership, Notification, Role

pytestmark = pytest.mark.django_db

NOTIFICATIONS = "/api/v1/notifications/"


def _told(user, workspace, text: str, minutes_ago: int = 0, slot=None) -> Notification:
    return Notification.objects.create(
        user=user,
        workspace=workspace,
        slot=slot,
        kind="review_ready",
        text=text,
        created_at=timezone.now() - timedelta(minutes=minutes_ago),
    )


@pytest.fixture
def told(team):
    # Erin is in the other workspace too; the token of Acme sees only Acme's.
    Membership.objects.create(user=team.editor, workspace=team.other_workspace, role=Role.EDITOR)
    slot = team.slot(timezone.now() + timedelta(days=2))
    return {
        "older": _told(team.editor, team.workspace, "A draft is ready.", 10, slot=slot),
        "newer": _told(team.editor, team.workspace, "Another draft is ready.", 1),
        "elsewhere": _told(team.editor, team.other_workspace, "Globex news."),
        "theirs": _told(team.manager, team.workspace, "Max's own."),
        "slot": slot,
    }


def test_it_lists_the_workspaces_notifications_newest_first(team, told, editor_api):
    answer = editor_api.get(NOTIFICATIONS)
    assert answer.status_code == 200, answer.json()
    rows = answer.json()["data"]
    assert [n["text"] for n in rows] == ["Another draft is ready.", "A draft is ready."]
    assert rows[1]["postId"] == str(told["slot"].public_id)
    assert rows[1]["readAt"] is None


def test_it_marks_one_read_and_then_lists_only_the_unread(team, told, editor_api):
    answer = editor_api.post(f"{NOTIFICATIONS}{told['older'].public_id}/read/")
    assert answer.status_code == 200, answer.json()
    assert answer.json()["data"]["readAt"] is not None
    unread = editor_api.get(NOTIFICATIONS, {"unread": "true"}).json()["data"]
    assert [n["text"] for n in unread] == ["Another draft is ready."]


def test_it_marks_all_of_the_workspaces_read(team, told, editor_api):
    answer = editor_api.post(f"{NOTIFICATIONS}read/")
    assert answer.status_code == 200, answer.json()
    assert answer.json()["data"] == {"marked": 2}
    told["elsewhere"].refresh_from_db()
    assert told["elsewhere"].read_at is None


def test_a_read_token_may_mark_read(team, told, api_for):
    api = api_for(team.editor, scopes=["read"])
    assert api.post(f"{NOTIFICATIONS}{told['newer'].public_id}/read/").status_code == 200


def test_someone_elses_or_another_workspaces_notification_is_not_there(team, told, editor_api):
    for row in (told["theirs"], told["elsewhere"]):
        answer = editor_api.post(f"{NOTIFICATIONS}{row.public_id}/read/")
        assert answer.status_code == 404
        row.refresh_from_db()
        assert row.read_at is None


def test_the_list_reads_a_constant_number_of_queries(
    team, told, editor_api, django_assert_num_queries
):
    editor_api.get(NOTIFICATIONS)  # the token's first use notes when it was used
    for n in range(5):
        _told(team.editor, team.workspace, f"News {n}.", slot=told["slot"])
    # The token, its person's memberships, the notifications with their posts.
    with django_assert_num_queries(3):
        answer = editor_api.get(NOTIFICATIONS)
    assert len(answer.json()["data"]) == 7


def test_marking_read_takes_only_post(team, told, editor_api):
    assert editor_api.get(f"{NOTIFICATIONS}{told['older'].public_id}/read/").status_code == 405
    assert editor_api.get(f"{NOTIFICATIONS}read/").status_code == 405


def test_without_a_token_it_is_a_401(team, told):
    from tests.calendar_app.api.conftest import Api

    answer = Api(None).get(NOTIFICATIONS)
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "unauthenticated"
