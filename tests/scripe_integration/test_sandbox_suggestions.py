"""The sandbox's suggestions (#26): a few `suggested` posts per project from the start,
listed by status, and more through `POST /_sandbox/suggestions`."""

from __future__ import annotations

import httpx

PROJECT = "proj_01JSANDBOXPROJ000000000001"


def test_each_project_starts_with_its_suggestions_listed_by_status(sandbox_factory):
    sandbox = sandbox_factory(suggestions_per_project=3)
    with sandbox.client() as scripe:
        page = scripe.list_posts_page(PROJECT, status=["suggested"])
        drafts = scripe.list_posts_page(PROJECT, status=["draft"])
    assert len(page.posts) == 3 and not page.has_more
    assert all(p.status == "suggested" and p.title and p.content for p in page.posts)
    assert "Lena Fischer" in " ".join(p.content for p in page.posts)
    assert drafts.posts == ()


def test_the_control_surface_adds_suggestions_and_announces_them(sandbox):
    url = f"{sandbox.root_url}/_sandbox/suggestions"
    added = httpx.post(url, json={"projectId": PROJECT, "title": "Mine", "content": "Text"})
    assert added.status_code == 201
    assert added.json()["data"][0]["status"] == "suggested"
    two = httpx.post(url, json={"projectId": PROJECT, "count": 2}).json()["data"]
    assert len(two) == 2
    with sandbox.client() as scripe:
        listed = scripe.list_posts_page(PROJECT, status=["suggested"]).posts
    assert {p.title for p in listed} >= {"Mine"} and len(listed) == 3


def test_the_control_surface_refuses_what_it_cannot_do(sandbox):
    url = f"{sandbox.root_url}/_sandbox/suggestions"
    assert httpx.post(url, json={"projectId": "proj_nope"}).status_code == 404
    assert httpx.post(url, json={"projectId": PROJECT, "count": 0}).status_code == 400
    assert httpx.post(url, json={"projectId": PROJECT, "title": 5}).status_code == 400
