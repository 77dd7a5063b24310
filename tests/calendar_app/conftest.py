"""Fixtures the calendar's tests share."""

from __future__ import annotations

import pytest
from django.utils import translation

from calendar_app.models import PlannedSlot
from calendar_app.pipeline import dispatch
from calendar_app.review.services import slot_approve
from tests.support import written_draft


@pytest.fixture(autouse=True)
def _interface_language_reset():
    """A German request through the test client leaves German active in the thread (the
    locale middleware activates, nothing deactivates); the next test on that worker would
    then read German from services it calls directly. Each test starts from the default."""
    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture
def wired(team, sandbox, monkeypatch):
    """A sandbox wired to the team's workspace, with django-q2 left out: tests run the
    generation task themselves, when they want it."""
    sandbox.wire(team.workspace)
    monkeypatch.setattr(dispatch, "enqueue", lambda job_id: None)
    return sandbox


@pytest.fixture
def scheduled(team, wired) -> PlannedSlot:
    """A post Scripe wrote and a manager approved: scheduled in Scripe three days ahead, on
    the planning grid (the hour), as planned times are."""
    slot = written_draft(team, days=3)
    on_grid = slot.scheduled_for.replace(minute=0, second=0, microsecond=0)
    PlannedSlot.objects.filter(pk=slot.pk).update(scheduled_for=on_grid)
    slot.refresh_from_db()
    slot_approve(slot=slot, user=team.manager)
    slot = PlannedSlot.objects.for_cards().get(pk=slot.pk)
    assert slot.status == "scheduled"
    return slot
