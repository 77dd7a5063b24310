"""Fixtures the calendar's tests share."""

from __future__ import annotations

import pytest

from calendar_app import generation


@pytest.fixture
def wired(team, sandbox, monkeypatch):
    """A sandbox wired to the team's workspace, with django-q2 left out: tests run the
    generation task themselves, when they want it."""
    sandbox.wire(team.workspace)
    monkeypatch.setattr(generation, "enqueue", lambda job_id: None)
    return sandbox
