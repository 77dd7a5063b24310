"""The client calls the app's sync and webhooks need, against the sandbox over HTTP."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from scripe_integration.contract import (
    Post,
    PostPage,
    ScripeError,
    ScripeInputError,
    WebhookEndpoint,
)
from tests.scripe_integration.sandbox_support import (
    COMPANY,
    DISCONNECTED,
    PROJECT,
    api_client,
    eventually,
    make_post,
)


def drafts(sandbox, count: int, project: str = PROJECT) -> list[str]:
    with api_client(sandbox) as api:
        return [make_post(api, project, f"Idea {i}. Worth a post.")["id"] for i in range(count)]


def in_an_hour() -> datetime:
    return datetime.now(UTC) + timedelta(hours=1)


# posts ------------------------------------------------------------------------------------------


def test_list_posts_page_walks_a_status_page_by_page(sandbox):
    ids = drafts(sandbox, 5)
    with sandbox.client() as scripe:
        for post_id in ids[:3]:
            scripe.update_post(post_id, scheduled_for=in_an_hour())
        pages, cursor = [], None
        while True:
            page = scripe.list_posts_page(PROJECT, status=["scheduled"], limit=2, cursor=cursor)
            assert isinstance(page, PostPage)
            pages.append(page)
            if not page.has_more:
                break
            cursor = page.next_cursor
        everything = scripe.list_posts_page(PROJECT, status=["draft", "scheduled"])
    assert [len(p.posts) for p in pages] == [2, 1]
    assert pages[-1].next_cursor is None
    assert sorted(p.id for page in pages for p in page.posts) == sorted(ids[:3])
    assert all(p.status == "scheduled" and p.scheduled_at for page in pages for p in page.posts)
    assert len(everything.posts) == 5 and not everything.has_more


def test_list_posts_page_refuses_bad_input_before_sending(sandbox):
    with sandbox.client() as scripe:
        for kwargs in ({"limit": 0}, {"limit": 201}, {"limit": True}, {"status": ["a,b"]}):
            with pytest.raises(ScripeInputError):
                scripe.list_posts_page(PROJECT, **kwargs)
        with pytest.raises(ScripeInputError):
            scripe.list_posts_page("not-a-project")
        assert scripe.calls == 0


def test_an_unknown_status_is_scripes_invalid_request(sandbox):
    with sandbox.client() as scripe, pytest.raises(ScripeError) as info:
        scripe.list_posts_page(PROJECT, status=["BOGUS"])
    assert (info.value.code, info.value.http_status) == ("invalid_request", 400)


def test_update_post_reschedules_unschedules_and_is_refused_without_a_connection(sandbox):
    (lena,) = drafts(sandbox, 1)
    (jonas,) = drafts(sandbox, 1, DISCONNECTED)
    with sandbox.client() as scripe:
        when = in_an_hour()
        first = scripe.update_post(lena, scheduled_for=when)
        moved = scripe.update_post(lena, scheduled_for=when + timedelta(days=1))
        back = scripe.update_post(lena, scheduled_for=None)
        before = scripe.get_post(jonas)
        with pytest.raises(ScripeError) as refused:
            scripe.update_post(jonas, scheduled_for=in_an_hour())
        after = scripe.get_post(jonas)
    assert moved.scheduled_at - first.scheduled_at == timedelta(days=1)
    assert (back.status, back.scheduled_at) == ("draft", None)
    assert (refused.value.http_status, refused.value.code) == (409, "conflict")
    assert after == before


def test_a_published_post_carries_its_publish_time(sandbox):
    (post_id,) = drafts(sandbox, 1)
    with sandbox.client() as scripe:
        when = datetime.now(UTC) + timedelta(seconds=0.5)
        scheduled = scripe.update_post(post_id, scheduled_for=when)
        assert scheduled.published_at is None
        published = eventually(lambda: (p := scripe.get_post(post_id)).status == "published" and p)
    assert published.published_at == scheduled.scheduled_at


def test_a_post_with_fields_the_client_does_not_know_still_parses():
    post = Post.from_api({"id": "post_1", "status": "someNewStatus", "customStatusId": "x"})
    assert (post.id, post.status, post.published_at) == ("post_1", "someNewStatus", None)


# webhook endpoints ------------------------------------------------------------------------------


def test_a_webhook_endpoint_is_created_read_updated_and_rotated(sandbox):
    url = "http://127.0.0.1:9/hooks/scripe"
    with sandbox.client() as scripe:
        created = scripe.create_webhook_endpoint(
            name="Calendar", url=url, events=["post.updated", "job.failed"], project_id=PROJECT
        )
        fetched = scripe.get_webhook_endpoint(created.id)
        updated = scripe.update_webhook_endpoint(
            created.id, events=["post.scheduled"], is_active=False, project_id=None
        )
        renamed = scripe.update_webhook_endpoint(created.id, name="Renamed")
        rotated = scripe.rotate_webhook_secret(created.id)
    assert isinstance(created, WebhookEndpoint)
    assert created.secret.startswith("whsec_") and created.secret_last4 == created.secret[-4:]
    assert created.secret not in repr(created)
    assert (created.url, created.events, created.project_id) == (
        url,
        ("post.updated", "job.failed"),
        PROJECT,
    )
    assert fetched.secret is None and fetched.secret_last4 == created.secret_last4
    assert (updated.events, updated.is_active, updated.project_id) == (
        ("post.scheduled",),
        False,
        None,
    )
    assert (renamed.name, renamed.events) == ("Renamed", ("post.scheduled",))
    assert rotated.secret not in (None, created.secret)
    assert rotated.secret_last4 == rotated.secret[-4:]


def test_webhook_endpoint_input_is_refused_before_sending(sandbox):
    good = {"name": "n", "url": "https://hooks.example.com/x", "events": ["post.updated"]}
    with sandbox.client() as scripe:
        for bad in (
            {"name": ""},
            {"name": "x" * 129},
            {"url": "ftp://example.com"},
            {"url": "https://" + "a" * 1020},
            {"events": []},
            {"events": "post.updated"},
            {"events": ["post.deleted"]},
            {"project_id": "nope"},
        ):
            with pytest.raises(ScripeInputError):
                scripe.create_webhook_endpoint(**{**good, **bad})
        for call, args in (
            (scripe.get_webhook_endpoint, ("nope",)),
            (scripe.rotate_webhook_secret, ("proj_x",)),
            (scripe.update_webhook_endpoint, ("whe_x",)),
        ):
            with pytest.raises(ScripeInputError):
                call(*args)
        with pytest.raises(ScripeInputError):
            scripe.update_webhook_endpoint("whe_x", is_active="no")
        assert scripe.calls == 0


def test_scripes_refusals_come_back_as_scripe_errors(sandbox_factory):
    sandbox = sandbox_factory(webhook_targets="public")
    with sandbox.client() as scripe:
        with pytest.raises(ScripeError) as blocked:
            scripe.create_webhook_endpoint(
                name="n", url="http://127.0.0.1:9/", events=["job.completed"]
            )
        with pytest.raises(ScripeError) as missing:
            scripe.get_webhook_endpoint("whe_missing")
        with pytest.raises(ScripeError) as no_project:
            scripe.create_webhook_endpoint(
                name="n",
                url="https://93.184.216.34/",
                events=["job.failed"],
                project_id=COMPANY + "9",
            )
    assert (blocked.value.http_status, blocked.value.code) == (422, "ssrf_blocked")
    assert (missing.value.http_status, missing.value.code) == (404, "not_found")
    assert no_project.value.code == "not_found"
