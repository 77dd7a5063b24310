"""bench/api.py: the requests its API clients send are ones the API accepts, its loop keeps
the mix it announces, and any answer but the expected one counts against it (no timing)."""

from __future__ import annotations

import asyncio
import json
import random
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from django.test import Client

from tests.calendar_app.api.conftest import make_token

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
bench = pytest.importorskip("api")


@pytest.fixture(autouse=True)
def _api_cache(settings):
    settings.CACHES = {
        **settings.CACHES,
        "api": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "bench"},
    }


def test_the_posts_it_plans_and_the_pages_it_lists_are_the_apis(team):
    secret = make_token(team.editor, team.workspace).secret
    client = Client(headers={"Authorization": f"Bearer {secret}"})
    rng = random.Random(1)
    for _ in range(3):
        body = bench.new_post(team.project.scripe_id, rng)
        answer = client.post("/api/v1/posts/", body, content_type="application/json")
        assert answer.status_code == 201, answer.json()
    listed = client.get("/api/v1/posts/", {"limit": bench.PAGE})
    assert listed.status_code == 200
    assert len(listed.json()["data"]) == 3


def _run(handler, seconds: float = 0.3) -> bench.Stats:
    async def go() -> bench.Stats:
        stats = bench.Stats()
        transport = httpx.MockTransport(handler)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            deadline = asyncio.get_running_loop().time() + seconds
            await bench.api_client(client, "scal_x", "proj_1", stats, deadline, random.Random(1))
        return stats

    # In a thread of its own: the browser tests' Playwright keeps a loop running in this one.
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, go()).result()


def test_a_client_lists_four_pages_for_each_post_it_plans_following_the_cursor():
    cursors = []

    def answer(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            assert request.headers["Idempotency-Key"]
            assert json.loads(request.content)["projectId"] == "proj_1"
            return httpx.Response(201, json={"data": {}})
        cursors.append(request.url.params.get("cursor"))
        return httpx.Response(200, json={"data": [], "nextCursor": "next"})

    stats = _run(answer)
    lists, plans = len(stats.latencies["list"]), len(stats.latencies["plan"])
    assert plans > 0 and lists // plans == bench.LISTS_PER_PLAN
    assert cursors[:3] == [None, "next", None]
    assert not stats.errors


@pytest.mark.parametrize("status", [429, 500, 503])
def test_any_other_answer_counts_as_an_error(status):
    stats = _run(lambda request: httpx.Response(status, json={}), seconds=0.05)
    assert stats.errors and all(code == status for _, code in stats.errors)
