"""bench/load.py plays the browser's live polls from the HTML it gets (bench/load_live.py);
these check that its reading of the page still matches what the pages and the live endpoint
say (no timing)."""

from __future__ import annotations

import sys
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from calendar_app.models import GenerationJob

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
load = pytest.importorskip("load")
load_live = pytest.importorskip("load_live")


def test_the_mix_leaves_the_review_queue_to_managers():
    editor, manager = load.mix_for("editor"), load.mix_for("manager")
    assert "review" not in editor and "review" in manager
    assert sum(editor.values()) == pytest.approx(1) == sum(manager.values())


def test_it_polls_a_month_page_with_a_card_in_flight_as_the_page_does(team, client):
    when = timezone.localtime(timezone.now() + timedelta(days=1))
    slot = team.slot(when, status="generating")
    GenerationJob.objects.create(slot=slot, idempotency_key=uuid.uuid4().hex)
    client.force_login(team.editor)
    url = f"/calendar/{when.year}/{when.month}/"

    page = load_live.LivePage.parse(url, client.get(url).content.decode())
    poll = load_live.live_poll(page)

    assert poll is not None and poll.every == load_live.LIVE_EVERY
    assert dict(poll.params)["view"] == "calendar"
    answer = client.get(poll.path, dict(poll.params), headers=load_live.LIVE_HEADERS)
    assert answer.status_code in load_live.LIVE_STATUS


def test_a_page_with_nothing_in_flight_keeps_the_heartbeat(team, client):
    client.force_login(team.editor)
    page = load_live.LivePage.parse("/slots/", client.get("/slots/").content.decode())
    poll = load_live.live_poll(page)
    assert poll is not None and poll.every == load_live.HEARTBEAT_EVERY
    assert dict(poll.params)["view"] == "list"


@pytest.mark.parametrize("kind", ["live", "month", "refresh"])
@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_any_server_error_counts_against_the_goal(kind, status):
    """The goal is 0 errors: a 5xx answer to any request, a live poll's too, is one (#24,
    item 11)."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    import httpx

    transport = httpx.MockTransport(lambda request: httpx.Response(status))
    client = httpx.AsyncClient(transport=transport, base_url="http://bench")
    user = load.User("erin", "editor", client)
    stats = load.Stats()
    # In a thread of its own: the browser tests' Playwright keeps a loop running in this one.
    with ThreadPoolExecutor(1) as thread:
        thread.submit(asyncio.run, load.timed(stats, kind, user, "/slots/live/")).result()
    assert stats.errors == {(kind, status): 1}
