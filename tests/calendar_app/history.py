"""Rows as the past leaves them, for the tests of insights, spend, the at-risk rule and
auto-generation: attempts Scripe wrote, status events, a plan. Now is Wednesday 10 June 2026,
12:00 UTC (each test module moves there); the team's workspace is in Europe/Berlin."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from calendar_app.models import GenerationJob, SlotEvent
from scripe_integration.services import connection_for

NOW = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)
THIS_WEEK = date(2026, 6, 8)
LAST_WEEK = date(2026, 6, 1)


def at(month, day, hour=12, minute=0, second=0) -> datetime:
    return datetime(2026, month, day, hour, minute, second, tzinfo=UTC)


def job(slot, attempt=1, *, code="", status="DONE", accepted=None, completed=None, **fields):
    return GenerationJob.objects.create(
        slot=slot,
        attempt=attempt,
        is_current=False,
        idempotency_key=f"k-{slot.pk}-{attempt}",
        finished=fields.pop("finished", True),
        error_code=code,
        scripe_status=status,
        accepted_at=accepted,
        completed_at=completed,
        **fields,
    )


def event(slot, status, when, actor=None, kind=SlotEvent.Kind.STATUS):
    return SlotEvent.objects.create(
        slot=slot, kind=kind, status=status, actor=actor, created_at=when
    )


def with_plan(team, plan="ADVANCED"):
    connection = connection_for(team.workspace)
    connection.plan = plan
    connection.save()
    team.workspace.refresh_from_db()
    return connection


def learned_history(team, generations=(5, 10, 15, 20, 40), reviews=(1, 2, 3, 4, 9)) -> None:
    """Scripe took 5, 10, 15, 20 and 40 min (median 15 min); reviews took 1, 2, 3, 4 and 9 h
    (median 3 h)."""
    slot = team.slot(at(7, 1))
    for n, minutes in enumerate(generations):
        job(slot, n + 1, accepted=at(6, 1, 9), completed=at(6, 1, 9, minutes))
    for hours in reviews:
        decided = team.slot(at(7, 1))
        event(decided, "in_review", at(6, 1, 8))
        event(decided, "approving", at(6, 1, 8) + timedelta(hours=hours), team.manager)
