"""Auto-generation: the sweep sends due drafts to Scripe once each, within the daily cap."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from calendar_app.models import GenerationJob, PlannedSlot
from calendar_app.pipeline import auto_generation, dispatch, spend
from calendar_app.pipeline.auto_generation import auto_generations_sweep
from scripe_integration.sandbox import DEFAULT_TEST_KEY
from scripe_integration.services import connection_for
from tests.calendar_app.history import (
    NOW,
    at,
)


@pytest.fixture(autouse=True)
def _now(time_machine):
    time_machine.move_to(NOW, tick=False)


@pytest.fixture
def keyed(team, monkeypatch):
    """A workspace with a key (not verified, which does not block) and auto-generation 24 h
    ahead; the django-q2 task is left out."""
    connection = connection_for(team.workspace)
    connection.set_key(DEFAULT_TEST_KEY)
    connection.plan = "ADVANCED"
    connection.save()
    team.workspace.auto_generate_hours = 24
    team.workspace.save()
    monkeypatch.setattr(dispatch, "enqueue", lambda job_ids: None)
    return connection


def test_auto_generation_sends_each_due_draft_once(team, keyed):
    hour = timedelta(hours=1)
    due = team.slot(NOW + 2 * hour)
    team.slot(NOW + 30 * hour)  # further than 24 h
    team.slot(NOW + timedelta(minutes=3))  # inside the planning lead
    team.slot(NOW + 2 * hour, status="in_review")
    team.slot(NOW + 2 * hour, project=team.paused)
    gone = team.slot(NOW + 2 * hour)
    PlannedSlot.objects.filter(pk=gone.pk).update(deleted_at=NOW)

    assert auto_generations_sweep() == 1
    assert auto_generations_sweep() == 0
    due.refresh_from_db()
    assert due.status == "queued" and due.auto_generated_at == NOW
    assert GenerationJob.objects.filter(slot=due).count() == 1
    assert GenerationJob.objects.count() == 1

    # Back to a draft somehow (say an admin's fix): still never a second time on its own.
    PlannedSlot.objects.filter(pk=due.pk).update(status="draft")
    assert auto_generations_sweep() == 0


def test_auto_generation_is_off_without_hours(team, keyed):
    team.slot(NOW + timedelta(hours=2))
    for hours in (None, 0):
        team.workspace.auto_generate_hours = hours
        team.workspace.save()
        assert auto_generations_sweep() == 0


def test_auto_generation_never_runs_after_the_cap_until_the_utc_day_ends(team, keyed, time_machine):
    slot = team.slot(at(6, 11, 1))
    keyed.note_spend_cap({"bucketDate": "2026-06-10", "spentCents": 2000, "capCents": 2000})
    assert auto_generations_sweep() == 0
    slot.refresh_from_db()
    assert slot.status == "draft" and slot.auto_generated_at is None

    time_machine.move_to(at(6, 11, 0, 1), tick=False)
    assert auto_generations_sweep() == 1


def test_auto_generation_leaves_the_rest_of_the_estimated_cap_alone(team, keyed, monkeypatch):
    monkeypatch.setattr(spend, "PLAN_CAP_CENTS", {"ADVANCED": 10})  # two generations
    drafts = [team.slot(NOW + timedelta(hours=h)) for h in (1, 2, 3)]
    assert auto_generations_sweep() == 2
    assert [PlannedSlot.objects.get(pk=s.pk).status for s in drafts] == [
        "queued",
        "queued",
        "draft",
    ]
    assert PlannedSlot.objects.get(pk=drafts[2].pk).auto_generated_at is None


def test_a_refused_request_leaves_the_draft_unmarked_for_a_later_minute(team, keyed, monkeypatch):
    from calendar_app.core.refusals import Refusal

    def refuse(**kwargs):
        raise Refusal("Not now.")

    slot = team.slot(NOW + timedelta(hours=2))
    monkeypatch.setattr(auto_generation, "generation_request", refuse)
    assert auto_generations_sweep() == 0
    slot.refresh_from_db()
    assert slot.auto_generated_at is None and slot.status == "draft"
    monkeypatch.undo()
    monkeypatch.setattr(dispatch, "enqueue", lambda job_ids: None)
    assert auto_generations_sweep() == 1


def test_a_workspace_whose_key_blocks_generation_is_skipped(team, keyed):
    keyed.forget_key()
    keyed.save()
    team.slot(NOW + timedelta(hours=2))
    assert auto_generations_sweep() == 0


def test_the_every_minute_sweep_runs_auto_generation(team, keyed, monkeypatch):
    from calendar_app import tasks

    for name in ("generations_sweep", "approvals_sweep", "syncs_due", "missed_sweep"):
        monkeypatch.setattr(tasks, name, lambda: 0)
    team.slot(NOW + timedelta(hours=2))
    assert tasks.sweep()["auto_generated"] == 1
    assert timezone.now() == NOW
