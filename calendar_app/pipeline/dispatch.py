"""Handing due generation attempts (and due source and knowledge ingests, #26) to django-q2
tasks: a dispatcher in every `qcluster` process (and the every-minute sweep, for a cluster
without one) marks due rows with a conditional UPDATE and enqueues one task per workspace and batch,
so several clusters share the work and a killed cluster's rows are handed on once their lease
lapses. No worker waits for Scripe: a row waiting for its next step costs a database row,
not a worker."""

from __future__ import annotations

import random
from datetime import timedelta

from django.db import models
from django.db.models import Min, Q
from django.utils import timezone

from calendar_app.models import GenerationJob, KnowledgeDocument, Source

TASK = "calendar_app.tasks.advance_generations"
SOURCE_TASK = "calendar_app.tasks.advance_sources"
KNOWLEDGE_TASK = "calendar_app.tasks.advance_knowledge"


def enqueue(job_ids: list[int]) -> None:
    from django_q.tasks import async_task

    name = f"generation-{job_ids[0]}" + (f"+{len(job_ids) - 1}" if len(job_ids) > 1 else "")
    async_task(TASK, job_ids, task_name=name, group="generation")


def enqueue_sources(source_ids: list[int]) -> None:
    from django_q.tasks import async_task

    extra = f"+{len(source_ids) - 1}" if len(source_ids) > 1 else ""
    async_task(SOURCE_TASK, source_ids, task_name=f"source-{source_ids[0]}{extra}", group="source")


def enqueue_knowledge(document_ids: list[int]) -> None:
    from django_q.tasks import async_task

    extra = f"+{len(document_ids) - 1}" if len(document_ids) > 1 else ""
    name = f"knowledge-{document_ids[0]}{extra}"
    async_task(KNOWLEDGE_TASK, document_ids, task_name=name, group="knowledge")


class _Kind:
    """What the dispatcher hands on: rows of a model with the pacing fields (`finished`,
    `next_poll_at`, `lease_until`, `dispatched_at`), the path from a row to its workspace,
    and how to enqueue a batch."""

    def __init__(self, model, workspace: str, send) -> None:
        self.model, self.workspace, self.send = model, workspace, send


def _kinds() -> list[_Kind]:
    # Looked up when called, so tests that replace `enqueue` replace what is sent.
    return [
        _Kind(GenerationJob, "slot__workspace", enqueue),
        _Kind(Source, "workspace", enqueue_sources),
        _Kind(KnowledgeDocument, "workspace", enqueue_knowledge),
    ]


# Due this soon counts as due: it joins the batch rather than costing a task of its own.
EARLY = timedelta(seconds=1)


# A dispatched attempt that no task has taken within this long (its task was lost with a
# killed cluster, say) is handed on again.
REDISPATCH_AFTER = timedelta(seconds=20)


BATCH_SIZE = 50


def generations_dispatch() -> int:
    """Hands every due attempt (and due source or knowledge ingest) that no task holds or is
    about to take to a task, one task per workspace and batch. Safe to run in several
    processes at once: each row is marked with a conditional UPDATE. Returns how many were
    handed on."""
    return sum(_dispatch(kind) for kind in _kinds())


def _dispatch(kind: _Kind) -> int:
    now = timezone.now()
    due = list(
        _dispatchable(now, kind)
        .filter(next_poll_at__lte=now + EARLY)
        .order_by("next_poll_at")
        .values_list("pk", flat=True)[:1000]
    )
    if not due:
        return 0
    stamp = now + timedelta(microseconds=random.randrange(1, 999_999))
    # Marked only if still free: a task may have taken one since it was read.
    _dispatchable(now, kind).filter(pk__in=due).update(dispatched_at=stamp)
    mine = kind.model.objects.filter(pk__in=due, dispatched_at=stamp).values_list(
        "pk", f"{kind.workspace}_id"
    )
    by_workspace: dict[int, list[int]] = {}
    for pk, workspace_id in mine:
        by_workspace.setdefault(workspace_id, []).append(pk)
    handed = 0
    for ids in by_workspace.values():
        for start in range(0, len(ids), BATCH_SIZE):
            kind.send(ids[start : start + BATCH_SIZE])
        handed += len(ids)
    return handed


def _dispatchable(now, kind: _Kind | None = None) -> models.QuerySet:
    """Unfinished rows no task holds or is about to take, outside a workspace whose rate
    limit holds every call (they are handed on when the hold ends, not every instant of
    it)."""
    kind = kind or _kinds()[0]
    scripe = f"{kind.workspace}__scripe"
    return (
        kind.model.objects.filter(finished=False)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .filter(Q(dispatched_at__isnull=True) | Q(dispatched_at__lt=now - REDISPATCH_AFTER))
        .exclude(**{f"{scripe}__hold_until__gt": now})
        .exclude(
            **{
                f"{scripe}__rate_limit_remaining": 0,
                f"{scripe}__rate_limit_reset_at__gt": now,
            }
        )
    )


def seconds_until_due() -> float | None:
    """When the next unfinished row is due, for a dispatcher deciding how long to sleep."""
    now = timezone.now()
    times = [_dispatchable(now, kind).aggregate(at=Min("next_poll_at"))["at"] for kind in _kinds()]
    times = [t for t in times if t is not None]
    if not times:
        return None
    return max(0.0, (min(times) - now).total_seconds())


def generations_sweep() -> int:
    """The every-minute schedule's share: a dispatch, for a cluster started without the
    dispatcher loop."""
    return generations_dispatch()
