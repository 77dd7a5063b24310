"""Handing due generation attempts to django-q2 tasks: a dispatcher in every `qcluster`
process (and the every-minute sweep, for a cluster without one) marks due attempts with a
conditional UPDATE and enqueues one task per workspace and batch, so several clusters share
the work and a killed cluster's attempts are handed on once their lease lapses."""

from __future__ import annotations

import random
from datetime import timedelta

from django.db import models
from django.db.models import Min, Q
from django.utils import timezone

from calendar_app.models import GenerationJob

TASK = "calendar_app.tasks.advance_generations"


def enqueue(job_ids: list[int]) -> None:
    from django_q.tasks import async_task

    name = f"generation-{job_ids[0]}" + (f"+{len(job_ids) - 1}" if len(job_ids) > 1 else "")
    async_task(TASK, job_ids, task_name=name, group="generation")


# Due this soon counts as due: it joins the batch rather than costing a task of its own.
EARLY = timedelta(seconds=1)


# A dispatched attempt that no task has taken within this long (its task was lost with a
# killed cluster, say) is handed on again.
REDISPATCH_AFTER = timedelta(seconds=20)


BATCH_SIZE = 50


def generations_dispatch() -> int:
    """Hands every due attempt that no task holds or is about to take to a task, one task
    per workspace and batch. Safe to run in several processes at once: each attempt is
    marked with a conditional UPDATE. Returns how many attempts were handed on."""
    now = timezone.now()
    due = list(
        _dispatchable(now)
        .filter(next_poll_at__lte=now + EARLY)
        .order_by("next_poll_at")
        .values_list("pk", flat=True)[:1000]
    )
    if not due:
        return 0
    stamp = now + timedelta(microseconds=random.randrange(1, 999_999))
    # Marked only if still free: a task may have taken one since it was read.
    _dispatchable(now).filter(pk__in=due).update(dispatched_at=stamp)
    mine = GenerationJob.objects.filter(pk__in=due, dispatched_at=stamp).values_list(
        "pk", "slot__workspace_id"
    )
    by_workspace: dict[int, list[int]] = {}
    for pk, workspace_id in mine:
        by_workspace.setdefault(workspace_id, []).append(pk)
    handed = 0
    for ids in by_workspace.values():
        for start in range(0, len(ids), BATCH_SIZE):
            enqueue(ids[start : start + BATCH_SIZE])
        handed += len(ids)
    return handed


def _dispatchable(now) -> models.QuerySet[GenerationJob]:
    """Unfinished attempts no task holds or is about to take, outside a workspace whose
    rate limit holds every call (they are handed on when the hold ends, not every instant
    of it)."""
    return (
        GenerationJob.objects.filter(finished=False)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .filter(Q(dispatched_at__isnull=True) | Q(dispatched_at__lt=now - REDISPATCH_AFTER))
        .exclude(slot__workspace__scripe__hold_until__gt=now)
        .exclude(
            slot__workspace__scripe__rate_limit_remaining=0,
            slot__workspace__scripe__rate_limit_reset_at__gt=now,
        )
    )


def seconds_until_due() -> float | None:
    """When the next unfinished attempt is due, for a dispatcher deciding how long to sleep."""
    now = timezone.now()
    earliest = _dispatchable(now).aggregate(at=Min("next_poll_at"))
    if earliest["at"] is None:
        return None
    return max(0.0, (earliest["at"] - now).total_seconds())


def generations_sweep() -> int:
    """The every-minute schedule's share: a dispatch, for a cluster started without the
    dispatcher loop."""
    return generations_dispatch()
