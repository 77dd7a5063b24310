"""Scripe's suggestions read into the ideas board (#26): one paced call per workspace per
sweep, never on a page view; the sync's own listing collects them at no extra call; taken
once, dismissed for the whole workspace, gone from the board when gone from Scripe."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
import time_machine
from django.utils import timezone

from calendar_app import tasks
from calendar_app.access import viewer_of
from calendar_app.ideas import services
from calendar_app.models import Idea, IdeaState, PlannedSlot, Project
from calendar_app.pipeline import sync
from calendar_app.pipeline.suggestions import SUGGESTIONS_EVERY, suggestions_due, suggestions_read

SECOND = "proj_01JSANDBOXPROJ000000000002"


@pytest.fixture
def suggesting(team, sandbox_factory):
    """A sandbox whose projects start with two suggestions each, wired to the workspace."""
    return sandbox_factory(suggestions_per_project=2).wire(team.workspace)


def post_listings(sandbox) -> int:
    return sandbox.stats()["requests"].get("GET /v1/posts", 0)


def suggest(sandbox, project_id, **body):
    response = httpx.post(
        f"{sandbox.root_url}/_sandbox/suggestions", json={"projectId": project_id, **body}
    )
    response.raise_for_status()
    return response.json()["data"]


def test_a_sweep_reads_one_project_per_workspace_with_one_call(team, suggesting):
    Project.objects.create(workspace=team.workspace, scripe_id=SECOND, name="Acme Analytics")
    assert suggestions_due() == 1
    assert post_listings(suggesting) == 1
    first = set(Idea.objects.values_list("project__scripe_id", flat=True))
    assert first == {team.project.scripe_id}
    assert Idea.objects.count() == 2 and all(i.is_suggestion for i in Idea.objects.all())
    assert suggestions_due() == 1  # the next sweep: the project not read yet
    assert Idea.objects.count() == 4
    assert suggestions_due() == 0  # both read within SUGGESTIONS_EVERY: no call
    assert post_listings(suggesting) == 2


def test_a_project_is_read_again_once_its_time_has_come(team, suggesting, time_machine):
    suggestions_due()
    suggest(suggesting, team.project.scripe_id, title="Fresh", content="A new one")
    time_machine.move_to(timezone.now() + SUGGESTIONS_EVERY + timedelta(seconds=1))
    assert suggestions_due() == 1
    assert Idea.objects.filter(title="Fresh").exists()


def test_pages_never_call_scripe(client, team, suggesting):
    suggestions_due()
    calls = suggesting.stats()["requestsTotal"]
    client.force_login(team.editor)
    page = client.get("/ideas/").content.decode()
    assert "Scripe&#x27;s suggestion" in page or "Scripe's suggestion" in page
    client.get("/ideas/panel/")
    client.get("/")
    assert suggesting.stats()["requestsTotal"] == calls


def test_a_suggestion_used_in_scripe_leaves_the_board_but_a_taken_one_stays(team, suggesting):
    suggestions_read(project=team.project)
    kept, gone = Idea.objects.order_by("pk")
    day = timezone.localdate() + timedelta(days=3)
    services.idea_plan(viewer=viewer_of(team.editor), idea=kept, day=day)
    for idea in (kept, gone):
        suggesting.dashboard_delete(idea.scripe_post_id)
    suggestions_read(project=team.project)
    assert list(Idea.objects.all()) == [kept]


def test_a_dismissed_suggestion_stays_hidden_for_the_workspace(team, suggesting):
    suggestions_read(project=team.project)
    idea = Idea.objects.first()
    services.idea_dismiss(viewer=viewer_of(team.manager), idea=idea)
    suggestions_read(project=team.project)
    assert Idea.objects.get(pk=idea.pk).state == IdeaState.DISMISSED
    assert Idea.objects.count() == 2


def test_the_syncs_own_listing_keeps_the_suggestions_it_passes(team, scheduled, sandbox):
    # `scheduled`: a post the sync follows; its listing is read anyway.
    suggest(sandbox, team.project.scripe_id, count=2)
    before = post_listings(sandbox)
    sync.scripe_sync(workspace=team.workspace)
    assert post_listings(sandbox) == before + 1  # no call of its own
    assert Idea.objects.exclude(scripe_post_id="").count() == 2


def test_a_suggestion_is_taken_once_even_clicked_twice(client, team, suggesting):
    suggestions_read(project=team.project)
    idea = Idea.objects.first()
    client.force_login(team.editor)
    day = (timezone.localdate() + timedelta(days=3)).isoformat()
    for _ in range(2):
        client.post(f"/ideas/{idea.public_id}/plan/", {"date": day}, headers={"HX-Request": "1"})
    slot = PlannedSlot.objects.get()
    assert slot.idea == idea and idea.text in slot.note.text
    assert Idea.objects.get(pk=idea.pk).state == IdeaState.USED


def test_the_sweep_reads_suggestions(team, suggesting):
    assert tasks.sweep()["suggestions_read"] == 1


def test_a_rate_limited_workspace_reads_nothing_and_breaks_nothing(team, suggesting):
    suggesting.fault("GET /v1/posts", status=429, code="rate_limited", retryAfter=30)
    assert suggestions_due() == 0
    assert Idea.objects.count() == 0


def test_suggestions_take_only_what_the_syncs_allowance_leaves(team, sandbox_factory):
    from tests.calendar_app.pipeline.test_sync import QUICK, sweep_minutes, twenty_projects

    sandbox = sandbox_factory(extra_projects=17, suggestions_per_project=1, **QUICK)
    twenty_projects(team, sandbox)
    with time_machine.travel(timezone.now(), tick=False) as clock:
        calls = sweep_minutes(sandbox, clock, 6)
    assert max(calls) <= 120 / 10, calls  # a tenth of the rate limit, suggestions included
    assert Idea.objects.exclude(scripe_post_id="").exists()
