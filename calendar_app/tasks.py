"""django-q2 tasks. They take ids and call services; the services hold the logic."""

from __future__ import annotations

from calendar_app.generation import generation_advance, generations_sweep


def advance_generation(job_id: int) -> None:
    generation_advance(job_id)


def sweep_generations() -> int:
    return generations_sweep()
