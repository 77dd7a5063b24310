"""The sandbox's posts after generation, over HTTP: publishing on its clock, failed publishes,
edits "from the dashboard", PATCH schedule changes, and the list by status in pages."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.scripe_integration.sandbox_support import (
    COMPANY,
    DISCONNECTED,
    PROJECT,
    api_client,
    at,
    control,
    eventually,
    make_post,
)


@pytest.fixture
def api(sandbox):
    with api_client(sandbox) as http:
        yield http


def get(api, post_id: str) -> httpx.Response:
    return api.get(f"posts/{post_id}")


# publishing on the clock -----------------------------------------------------------------------


def test_a_scheduled_post_is_published_when_its_time_comes(api):
    post = make_post(api)
    scheduled = api.patch(f"posts/{post['id']}", json={"scheduledFor": at(0.8)}).json()["data"]
    assert scheduled["status"] == "scheduled"
    assert scheduled["publishedAt"] is None

    published = eventually(
        lambda: (d := get(api, post["id"]).json()["data"])["status"] == "published" and d
    )
    assert published["publishedAt"] == scheduled["scheduledAt"]
    assert published["updatedAt"] == scheduled["scheduledAt"]
    assert published["scheduledAt"] == scheduled["scheduledAt"]
    assert published["publishError"] is None


def test_a_due_publish_fails_when_the_project_lost_its_linkedin_connection(api, sandbox):
    post = make_post(api)
    scheduled = api.patch(f"posts/{post['id']}", json={"scheduledFor": at(0.5)}).json()["data"]
    sandbox.patch_project(PROJECT, linkedinConnected=False)

    failed = eventually(lambda: get(api, post["id"]).json()["data"]["publishError"])
    data = get(api, post["id"]).json()["data"]
    # It stays scheduled, its time now past: the legacy status enum has no "failed".
    assert data["status"] == "scheduled"
    assert data["scheduledAt"] == scheduled["scheduledAt"]
    assert data["updatedAt"] == scheduled["updatedAt"]
    assert data["publishedAt"] is None
    assert failed["code"] == "linkedin_not_connected"
    assert failed["failedAt"] == scheduled["scheduledAt"]

    # Not retried on its own once the connection is back...
    sandbox.patch_project(PROJECT, linkedinConnected=True)
    time.sleep(0.5)
    assert get(api, post["id"]).json()["data"]["status"] == "scheduled"
    # ...but a new time is tried again, and publishes.
    api.patch(f"posts/{post['id']}", json={"scheduledFor": at(0.4)})
    assert get(api, post["id"]).json()["data"]["publishError"] is None
    eventually(lambda: get(api, post["id"]).json()["data"]["status"] == "published")


def test_the_next_publish_of_one_post_can_be_made_to_fail(api, sandbox):
    doomed, fine = make_post(api), make_post(api, text="Another idea entirely.")
    response = control(
        sandbox, "POST", f"posts/{doomed['id']}/publish-failure", code="linkedin_error"
    )
    assert response.status_code == 200
    for post in (doomed, fine):
        api.patch(f"posts/{post['id']}", json={"scheduledFor": at(0.4)})

    eventually(lambda: get(api, fine["id"]).json()["data"]["status"] == "published")
    error = eventually(lambda: get(api, doomed["id"]).json()["data"]["publishError"])
    assert error["code"] == "linkedin_error"
    # Only the next publish: moved again, it goes out.
    api.patch(f"posts/{doomed['id']}", json={"scheduledFor": at(0.4)})
    eventually(lambda: get(api, doomed["id"]).json()["data"]["status"] == "published")


def test_a_published_post_cannot_be_rescheduled_or_unscheduled(api):
    post = make_post(api)
    api.patch(f"posts/{post['id']}", json={"scheduledFor": at(0.3)})
    eventually(lambda: get(api, post["id"]).json()["data"]["status"] == "published")
    for value in (at(3600), None):
        response = api.patch(f"posts/{post['id']}", json={"scheduledFor": value})
        assert (response.status_code, response.json()["error"]["code"]) == (409, "conflict")
    assert get(api, post["id"]).json()["data"]["status"] == "published"


# PATCH /v1/posts/{id} ---------------------------------------------------------------------------


def test_patch_reschedules_and_unschedules_back_to_draft(api):
    post = make_post(api)
    first = api.patch(f"posts/{post['id']}", json={"scheduledFor": at(3600)}).json()["data"]
    moved = api.patch(f"posts/{post['id']}", json={"scheduledFor": at(7200)}).json()["data"]
    assert (first["status"], moved["status"]) == ("scheduled", "scheduled")
    assert moved["scheduledAt"] > first["scheduledAt"]

    unscheduled = api.patch(f"posts/{post['id']}", json={"scheduledFor": None}).json()["data"]
    assert (unscheduled["status"], unscheduled["scheduledAt"]) == ("draft", None)
    assert get(api, post["id"]).json()["data"]["status"] == "draft"


def test_patch_refuses_a_past_time_with_422_and_leaves_the_post(api):
    post = make_post(api)
    api.patch(f"posts/{post['id']}", json={"scheduledFor": at(3600)})
    before = get(api, post["id"]).json()["data"]
    response = api.patch(f"posts/{post['id']}", json={"scheduledFor": "2020-01-01T00:00:00Z"})
    assert (response.status_code, response.json()["error"]["code"]) == (422, "unprocessable")
    assert get(api, post["id"]).json()["data"] == before


def test_patch_refuses_to_schedule_without_a_linkedin_connection_and_leaves_the_post(api):
    post = make_post(api, project=DISCONNECTED)
    response = api.patch(
        f"posts/{post['id']}", json={"scheduledFor": at(3600), "content": "Changed"}
    )
    assert (response.status_code, response.json()["error"]["code"]) == (409, "conflict")
    assert get(api, post["id"]).json()["data"] == post
    # Unscheduling needs no connection.
    assert api.patch(f"posts/{post['id']}", json={"scheduledFor": None}).status_code == 200


# the dashboard ----------------------------------------------------------------------------------


def test_the_dashboard_edits_text_and_title(api, sandbox):
    post = make_post(api)
    response = control(sandbox, "PATCH", f"posts/{post['id']}", title="New", content="New text")
    assert response.status_code == 200
    data = get(api, post["id"]).json()["data"]
    assert (data["title"], data["content"], data["status"]) == ("New", "New text", "draft")
    assert data["updatedAt"] > post["updatedAt"]


def test_the_dashboard_moves_and_unschedules_without_the_api_checks(api, sandbox):
    post = make_post(api, project=DISCONNECTED)
    control(sandbox, "PATCH", f"posts/{post['id']}", scheduledAt=at(3600))
    assert get(api, post["id"]).json()["data"]["status"] == "scheduled"
    control(sandbox, "PATCH", f"posts/{post['id']}", scheduledAt=None)
    data = get(api, post["id"]).json()["data"]
    assert (data["status"], data["scheduledAt"]) == ("draft", None)


def test_a_post_deleted_in_the_dashboard_is_gone(api, sandbox):
    post, other = make_post(api), make_post(api, text="Keep this one.")
    assert control(sandbox, "DELETE", f"posts/{post['id']}").status_code == 200
    response = get(api, post["id"])
    assert (response.status_code, response.json()["error"]["code"]) == (404, "not_found")
    listed = api.get(f"posts?projectId={PROJECT}").json()["data"]
    assert [p["id"] for p in listed] == [other["id"]]
    assert control(sandbox, "DELETE", f"posts/{post['id']}").status_code == 404


def test_dashboard_controls_refuse_what_they_cannot_do(api, sandbox):
    post = make_post(api)
    assert control(sandbox, "PATCH", "posts/post_missing", title="x").status_code == 404
    assert control(sandbox, "PATCH", f"posts/{post['id']}", title=5).status_code == 400
    assert control(sandbox, "PATCH", f"posts/{post['id']}", scheduledAt="soon").status_code == 400
    assert control(sandbox, "PUT", f"posts/{post['id']}/nothing").status_code == 404


# GET /v1/posts by status, in pages -------------------------------------------------------------


def test_posts_are_listed_by_status_in_pages(api):
    posts = [make_post(api, text=f"Idea number {i}. It is good.") for i in range(5)]
    other = make_post(api, project=COMPANY)
    for post in posts[:3]:
        api.patch(f"posts/{post['id']}", json={"scheduledFor": at(3600)})

    seen, cursor = [], None
    for _ in range(5):
        query = f"posts?projectId={PROJECT}&status=scheduled&limit=2"
        page = api.get(query + (f"&cursor={cursor}" if cursor else "")).json()
        seen.append([p["id"] for p in page["data"]])
        cursor = page["pagination"]["next_cursor"]
        if not page["pagination"]["has_more"]:
            assert cursor is None
            break
    assert [len(ids) for ids in seen] == [2, 1]
    assert sorted(i for ids in seen for i in ids) == sorted(p["id"] for p in posts[:3])

    both = api.get(f"posts?projectId={PROJECT}&status=draft,scheduled").json()["data"]
    assert len(both) == 5 and other["id"] not in {p["id"] for p in both}
    drafts = api.get(f"posts?projectId={PROJECT}&status=draft").json()["data"]
    assert sorted(p["id"] for p in drafts) == sorted(p["id"] for p in posts[3:])


def test_a_cursor_whose_post_left_the_filtered_list_is_bad_cursor(api):
    posts = [make_post(api, text=f"Idea number {i}. It is good.") for i in range(3)]
    for post in posts:
        api.patch(f"posts/{post['id']}", json={"scheduledFor": at(3600)})
    page = api.get(f"posts?projectId={PROJECT}&status=scheduled&limit=1").json()
    last = page["data"][0]["id"]
    api.patch(f"posts/{last}", json={"scheduledFor": None})
    cursor = page["pagination"]["next_cursor"]
    response = api.get(f"posts?projectId={PROJECT}&status=scheduled&limit=1&cursor={cursor}")
    assert (response.status_code, response.json()["error"]["code"]) == (400, "bad_cursor")


def test_listing_posts_counts_toward_the_rate_limit(sandbox_factory):
    sandbox = sandbox_factory(rate_limit=3)
    with api_client(sandbox) as api:
        answers = [api.get(f"posts?projectId={PROJECT}") for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert answers[1].headers["X-RateLimit-Remaining"] == "1"
    assert answers[3].json()["error"]["code"] == "rate_limited"
    assert int(answers[3].headers["Retry-After"]) >= 1
