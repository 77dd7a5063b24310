"""`/mcp/` over HTTP: who it lets in, what it answers to what, the token's rate limit, and
the queries a list costs. Raw JSON-RPC through Django's test client, in the test's thread."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from django.db import connection
from django.test import Client as DjangoClient
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from calendar_app.accounts.tokens import token_revoke
from calendar_app.models import ApiToken, Membership, PlannedSlot
from calendar_app.planning import queue
from tests.calendar_app.assistants.conftest import MCP, call, rpc

pytestmark = pytest.mark.django_db


def _ahead(days: int = 3):
    when = timezone.now() + timedelta(days=days)
    return when.replace(minute=0, second=0, microsecond=0)


def test_it_answers_a_tool_call_with_json(team, token_for):
    slot = team.slot(_ahead())
    response = rpc(
        token_for(team.editor),
        "tools/call",
        {
            "name": "show_post",
            "arguments": {"post_id": str(slot.public_id)},
        },
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    result = response.json()["result"]
    assert result["isError"] is False
    assert result["structuredContent"]["id"] == str(slot.public_id)
    assert response["RateLimit-Limit"]


def test_it_refuses_a_request_without_a_token(team):
    response = rpc(None, "tools/list")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="mcp"'
    assert response.json()["error"] == "unauthenticated"


def test_a_logged_in_browser_is_not_a_token(team):
    browser = DjangoClient()
    browser.force_login(team.editor)
    response = browser.post(MCP, "{}", content_type="application/json")
    assert response.status_code == 401


@pytest.mark.parametrize("how", ["unknown", "revoked", "expired", "left the workspace"])
def test_it_refuses_a_token_that_no_longer_opens(team, token_for, how):
    secret = "scal_unknown" if how == "unknown" else token_for(team.editor)
    token = ApiToken.objects.filter(user=team.editor).first()
    if how == "revoked":
        token_revoke(token=token)
    elif how == "expired":
        ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now())
    elif how == "left the workspace":
        Membership.objects.filter(user=team.editor).delete()
    response = rpc(secret, "tools/list")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith('Bearer realm="mcp", error="invalid_token"')
    assert "unknown, revoked or expired" in response.json()["error_description"]


@pytest.mark.parametrize("method", ["get", "delete", "put"])
def test_only_post_is_served(team, token_for, method):
    secret = token_for(team.editor)
    response = getattr(DjangoClient(), method)(MCP, headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 405
    assert response["Allow"] == "POST"


def test_it_shares_the_tokens_rate_limit_with_the_api(team, token_for, settings):
    settings.API_RATE_LIMIT = 2
    secret = token_for(team.editor)
    assert rpc(secret, "tools/list").status_code == 200
    assert (
        DjangoClient()
        .get("/api/v1/projects/", headers={"Authorization": f"Bearer {secret}"})
        .status_code
        == 200
    )
    refused = rpc(secret, "tools/list")
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) >= 1
    assert refused["RateLimit-Remaining"] == "0"


def test_a_refusal_saves_nothing(team, token_for):
    result = call(
        token_for(team.editor),
        "plan_post",
        project_id=team.paused.scripe_id,
        note_text="An idea.",
        scheduled_for=_ahead().isoformat(),
    )
    assert result["isError"] is True
    assert result["content"][0]["text"] == team.paused.inactive_reason
    assert not PlannedSlot.objects.exists()


def test_a_time_without_an_offset_is_the_persons_own(team, token_for):
    secret = token_for(team.editor)
    day = _ahead().date()
    arguments = {
        "project_id": team.project.scripe_id,
        "note_text": "An idea.",
        "scheduled_for": f"{day.isoformat()}T10:00",
        "request_key": "4b1d5c1e-retry",
    }
    first = call(secret, "plan_post", **arguments)["structuredContent"]
    again = call(secret, "plan_post", **arguments)["structuredContent"]
    slot = PlannedSlot.objects.get()
    assert first["id"] == again["id"] == str(slot.public_id)
    local = timezone.localtime(slot.scheduled_for, team.workspace.zone)
    assert (local.date(), local.hour, local.minute) == (day, 10, 0)


def test_add_to_queue_needs_a_schedule_and_says_so(team, token_for):
    result = call(
        token_for(team.editor),
        "add_to_queue",
        project_id=team.project.scripe_id,
        note_text="An idea.",
    )
    assert result["isError"] is True
    assert result["content"][0]["text"] == (
        "Lena Fischer has no posting schedule yet; a manager sets one on its queue page."
    )


def test_listing_posts_costs_the_same_queries_for_any_number_of_posts(team, token_for):
    secret = token_for(team.editor)
    day = _ahead().astimezone(team.workspace.zone).date().isoformat()
    arguments = {"date_from": day, "date_to": day}
    call(secret, "list_posts", **arguments)  # notes the token's first use (one UPDATE)

    def queries(count: int) -> int:
        for hour in range(count):
            team.slot(_ahead() + timedelta(minutes=15 * hour))
        with CaptureQueriesContext(connection) as captured:
            result = call(secret, "list_posts", **arguments)
        assert len(result["structuredContent"]["posts"]) >= count
        return len(captured)

    # The token (with its person and workspace), the person's memberships, their time zone,
    # the posts, and the posts' labels.
    assert queries(2) == queries(6) == 5


def test_add_to_queue_plans_at_the_next_schedule_time_and_top_is_a_managers(team, token_for):
    every_day_at_nine = [(weekday, time(9, 0)) for weekday in range(7)]
    queue.schedule_set(project=team.project, schedule=every_day_at_nine)
    secret = token_for(team.editor)
    first_free = queue.first_free(team.project).when
    added = call(secret, "add_to_queue", project_id=team.project.scripe_id, note_text="An idea.")
    answer = added["structuredContent"]
    slot = PlannedSlot.objects.get(public_id=answer["post"]["id"])
    assert slot.scheduled_for == first_free
    assert answer["movedLater"] == 0
    top = call(
        secret, "add_to_queue", project_id=team.project.scripe_id, note_text="Urgent.", top=True
    )
    assert top["isError"] is True
    assert top["content"][0]["text"].startswith("Only a manager can put a post at the top")
    assert PlannedSlot.objects.count() == 1


def test_list_posts_refuses_a_range_that_ends_before_it_starts(team, token_for):
    result = call(
        token_for(team.editor), "list_posts", date_from="2026-06-10", date_to="2026-06-01"
    )
    assert result["isError"] is True
    assert result["content"][0]["text"] == "The end date is before the start date."


@pytest.mark.parametrize(
    "when", ["9999-12-31T23:45:00", "9999-12-31T23:45:00Z", "0001-01-01T00:00:00+05:00"]
)
def test_plan_post_refuses_a_year_the_calendar_does_not_show(team, token_for, when):
    result = call(
        token_for(team.editor),
        "plan_post",
        project_id=team.project.scripe_id,
        note_text="An idea.",
        scheduled_for=when,
    )
    assert result["isError"] is True
    assert result["content"][0]["text"] == "Pick a day between 1970 and 2200."
    assert not PlannedSlot.objects.exists()


@pytest.mark.parametrize(
    ("first", "last"), [("0001-01-01", "0001-01-02"), ("9999-12-30", "9999-12-31")]
)
def test_list_posts_refuses_days_the_calendar_does_not_show(team, token_for, first, last):
    result = call(token_for(team.editor), "list_posts", date_from=first, date_to=last)
    assert result["isError"] is True
    assert result["content"][0]["text"] == "Pick a day between 1970 and 2200."
