"""django-q2 tasks. They take ids and call services; the services hold the logic."""

from __future__ import annotations

from calendar_app.generation import generation_advance, generations_sweep
from calendar_app.review import approvals_sweep


def advance_generation(job_id: int) -> None:
    generation_advance(job_id)


def sweep() -> dict[str, int]:
    """Every minute: resumes generations that are due or whose worker died, and settles
    approvals interrupted mid-call."""
    return {"generations": generations_sweep(), "approvals": approvals_sweep()}
