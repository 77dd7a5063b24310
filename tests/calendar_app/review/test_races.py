"""Two managers decide on the same draft at the same moment: exactly one decision is made,
the other is told who got there first, and Scripe only hears from the winner.

Each race runs two threads, each with its own database connection. Both threads read the
draft as `in_review` and pass every check, then meet at a barrier and transition at once, so
the conditional UPDATE is what decides, not luck. Run on PostgreSQL in CI; SQLite serialises
writers itself, so there the race is weaker (but must hold too).
"""

from __future__ import annotations

import threading
from datetime import time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.utils import timezone

from calendar_app.core.refusals import Refusal
from calendar_app.models import PlannedSlot, SourceNote
from calendar_app.pipeline import dispatch
from calendar_app.review import services as review
from tests.support import written_draft

pytestmark = pytest.mark.django_db(transaction=True)

GENERATE = "POST /v1/posts/generations"
PATCH = "PATCH /v1/posts/{postId}"


def race(monkeypatch, slot: PlannedSlot, first, second) -> dict[str, object]:
    """Runs two decisions on the same draft together; returns each one's result or refusal."""
    barrier = threading.Barrier(2, timeout=10)
    checked = review._draft

    def draft_then_wait(s):
        job = checked(s)  # both see the draft in review...
        barrier.wait()  # ...and only then does either one act
        return job

    monkeypatch.setattr(review, "_draft", draft_then_wait)
    results: dict[str, object] = {}

    def run(name, decide):
        try:
            mine = PlannedSlot.objects.for_cards().get(pk=slot.pk)
            results[name] = decide(mine)
        except Refusal as refusal:
            results[name] = refusal
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=pair) for pair in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def approve(team):
    return ("approve", lambda slot: review.slot_approve(slot=slot, user=team.manager))


def request_changes(team):
    return (
        "changes",
        lambda slot: review.slot_request_changes(
            slot=slot, user=team.admin, comment="Shorter, please."
        ),
    )


def reject(team):
    return (
        "reject",
        lambda slot: review.slot_reject(slot=slot, user=team.admin, reason="Off-brand."),
    )


def one_winner(results: dict[str, object]) -> tuple[str, Refusal]:
    refused = {name: r for name, r in results.items() if isinstance(r, Refusal)}
    won = [name for name, r in results.items() if not isinstance(r, Refusal)]
    assert len(results) == 2 and len(won) == 1 and len(refused) == 1, results
    loser = next(iter(refused.values()))
    assert loser.status == 409 and loser.stale
    return won[0], loser


@pytest.mark.parametrize("rounds", [5])
def test_approve_against_request_changes_makes_one_decision_and_scripe_agrees(
    monkeypatch, team, wired, rounds
):
    for _ in range(rounds):
        slot = written_draft(team)
        before = wired.stats()["requests"]
        results = race(monkeypatch, slot, approve(team), request_changes(team))
        monkeypatch.undo()
        monkeypatch.setattr(dispatch, "enqueue", lambda job_id: None)
        winner, loser = one_winner(results)
        patches = wired.stats()["requests"].get(PATCH, 0) - before.get(PATCH, 0)
        slot.refresh_from_db()
        post = wired.client().get_post(slot.jobs.get(attempt=1).post_id)
        if winner == "approve":
            assert (slot.status, post.status, patches) == ("scheduled", "scheduled", 1)
            assert slot.jobs.count() == 1  # no rewrite was asked of Scripe
            assert str(loser).startswith("Max already ")
            assert "approv" in str(loser)
        else:
            # The rewrite is queued, and Scripe never heard of the approval.
            assert (slot.status, patches) == ("queued", 0)
            assert post.status != "scheduled"
            assert slot.jobs.count() == 2
            assert str(loser).startswith("ada already asked for changes, at ")


def test_approve_against_reject_makes_one_decision(monkeypatch, team, wired):
    slot = written_draft(team)
    before = wired.stats()["requests"].get(PATCH, 0)
    winner, _ = one_winner(race(monkeypatch, slot, approve(team), reject(team)))
    slot.refresh_from_db()
    patches = wired.stats()["requests"].get(PATCH, 0) - before
    if winner == "approve":
        assert (slot.status, patches) == ("scheduled", 1)
    else:
        assert (slot.status, patches) == ("rejected", 0)


def test_two_approvals_schedule_the_post_once(monkeypatch, team, wired):
    slot = written_draft(team)
    before = wired.stats()["requests"].get(PATCH, 0)
    other = ("approve-2", lambda s: review.slot_approve(slot=s, user=team.admin))
    _, loser = one_winner(race(monkeypatch, slot, approve(team), other))
    slot.refresh_from_db()
    assert slot.status == "scheduled"
    assert wired.stats()["requests"].get(PATCH, 0) - before == 1
    assert "your change was not made" in str(loser)
    events = list(slot.events.filter(kind="status", status="scheduled"))
    assert len(events) == 1


def test_two_plans_with_one_request_key_make_one_slot(monkeypatch, team):
    """A double click whose two requests pass every check together: the unique key decides,
    and both get the same slot back."""
    from calendar_app.planning import services

    barrier = threading.Barrier(2, timeout=10)
    checked = services.slot_validate

    def validate_then_wait(**fields):
        plan = checked(**fields)
        barrier.wait()
        return plan

    monkeypatch.setattr(services, "slot_validate", validate_then_wait)
    day = (timezone.now() + timedelta(days=3)).date()
    fields = {
        "project": team.project,
        "note_text": "Fewer meetings.",
        "note": None,
        "language": "en",
        "day": day,
        "clock": time(9, 0),
    }
    results = []

    def plan():
        try:
            results.append(
                services.slot_create(
                    user=team.editor, zone=ZoneInfo("Europe/Berlin"), request_key="a" * 32, **fields
                ).pk
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=plan) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(results) == 2 and results[0] == results[1]
    assert PlannedSlot.objects.count() == 1
    assert SourceNote.objects.filter(text="Fewer meetings.").count() == 1
