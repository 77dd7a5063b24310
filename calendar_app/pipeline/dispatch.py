"""Handing due Scripe jobs to django-q2 tasks: a dispatcher in every `qcluster` process (and
the every-minute sweep, for a cluster without one) marks due generation attempts and
knowledge-base ingests with a conditional UPDATE and enqueues one task per workspace and
batch, so several clusters share the work and a killed cluster's rows are handed on once
their lease lapses. `Lease` is how a task holds the rows it was handed."""

from __future__ import annotations

import random
import time
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Min, Q
from django.utils import timezone

from calendar_app.models import GenerationJob, KnowledgeDocument

TASK = "calendar_app.tasks.advance_generations"
KNOWLEDGE_TASK = "calendar_app.tasks.advance_knowledge"


def enqueue(job_ids: list[int]) -> None:
    from django_q.tasks import async_task

    name = f"generation-{job_ids[0]}" + (f"+{len(job_ids) - 1}" if len(job_ids) > 1 else "")
    async_task(TASK, job_ids, task_name=name, group="generation")


def enqueue_knowledge(document_ids: list[int]) -> None:
    from django_q.tasks import async_task

    extra = f"+{len(document_ids) - 1}" if len(document_ids) > 1 else ""
    name = f"knowledge-{document_ids[0]}{extra}"
    async_task(KNOWLEDGE_TASK, document_ids, task_name=name, group="knowledge")


# What the dispatcher follows: each kind of row, the path from it to its workspace, and how
# its due rows are handed to a task.
def _kinds():
    return [
        (GenerationJob, "slot__workspace", enqueue),
        (KnowledgeDocument, "workspace", enqueue_knowledge),
    ]


# Due this soon counts as due: it joins the batch rather than costing a task of its own.
EARLY = timedelta(seconds=1)


# A dispatched attempt that no task has taken within this long (its task was lost with a
# killed cluster, say) is handed on again.
REDISPATCH_AFTER = timedelta(seconds=20)


BATCH_SIZE = 50


def generations_dispatch() -> int:
    """Hands every due generation attempt and knowledge ingest that no task holds or is
    about to take to a task, one task per workspace, kind and batch. Safe to run in several
    processes at once: each row is marked with a conditional UPDATE. Returns how many rows
    were handed on."""
    return sum(_dispatch(model, path, hand_on) for model, path, hand_on in _kinds())


def _dispatch(model: type[models.Model], workspace: str, hand_on) -> int:
    now = timezone.now()
    due = list(
        _dispatchable(now, model, workspace)
        .filter(next_poll_at__lte=now + EARLY)
        .order_by("next_poll_at")
        .values_list("pk", flat=True)[:1000]
    )
    if not due:
        return 0
    stamp = now + timedelta(microseconds=random.randrange(1, 999_999))
    # Marked only if still free: a task may have taken one since it was read.
    _dispatchable(now, model, workspace).filter(pk__in=due).update(dispatched_at=stamp)
    mine = model.objects.filter(pk__in=due, dispatched_at=stamp).values_list(
        "pk", f"{workspace}_id"
    )
    by_workspace: dict[int, list[int]] = {}
    for pk, workspace_id in mine:
        by_workspace.setdefault(workspace_id, []).append(pk)
    handed = 0
    for ids in by_workspace.values():
        for start in range(0, len(ids), BATCH_SIZE):
            hand_on(ids[start : start + BATCH_SIZE])
        handed += len(ids)
    return handed


def _dispatchable(
    now, model: type[models.Model] = GenerationJob, workspace: str = "slot__workspace"
) -> models.QuerySet:
    """Unfinished rows no task holds or is about to take, outside a workspace whose rate
    limit holds every call (they are handed on when the hold ends, not every instant of
    it)."""
    return (
        model.objects.filter(finished=False)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .filter(Q(dispatched_at__isnull=True) | Q(dispatched_at__lt=now - REDISPATCH_AFTER))
        .exclude(**{f"{workspace}__scripe__hold_until__gt": now})
        .exclude(
            **{
                f"{workspace}__scripe__rate_limit_remaining": 0,
                f"{workspace}__scripe__rate_limit_reset_at__gt": now,
            }
        )
    )


def seconds_until_due() -> float | None:
    """When the next unfinished row is due, for a dispatcher deciding how long to sleep."""
    now = timezone.now()
    times = [
        _dispatchable(now, model, path).aggregate(at=Min("next_poll_at"))["at"]
        for model, path, _ in _kinds()
    ]
    times = [at for at in times if at is not None]
    if not times:
        return None
    return max(0.0, (min(times) - now).total_seconds())


class Lease:
    """The lease a task holds on a batch of rows (generation attempts or knowledge ingests).
    Its expiry doubles as the holder's token (with random microseconds, so two holders never
    share one); renewing before each Scripe call keeps a live task's rows while a dead one's
    lapse soon (GENERATION_LEASE_SECONDS)."""

    def __init__(self, ids: list[int], model: type[models.Model] = GenerationJob) -> None:
        self.model = model
        now = timezone.now()
        self.until = self._stamp(now)
        free = Q(lease_until__isnull=True) | Q(lease_until__lt=now)
        model.objects.filter(pk__in=ids, finished=False).filter(free).update(lease_until=self.until)
        self.ids = set(
            model.objects.filter(pk__in=ids, lease_until=self.until).values_list("pk", flat=True)
        )
        self.renewed = time.monotonic()

    def _stamp(self, now) -> timezone.datetime:
        lease = timedelta(seconds=settings.GENERATION_LEASE_SECONDS)
        return now + lease + timedelta(microseconds=random.randrange(1, 999_999))

    def renew(self) -> None:
        """Called before each Scripe call; writes at most every few seconds."""
        if not self.ids or time.monotonic() - self.renewed < 3:
            return
        until = self._stamp(timezone.now())
        self.model.objects.filter(pk__in=self.ids, lease_until=self.until).update(lease_until=until)
        self.ids = set(
            self.model.objects.filter(pk__in=self.ids, lease_until=until).values_list(
                "pk", flat=True
            )
        )
        self.until, self.renewed = until, time.monotonic()

    def release(self) -> None:
        self.model.objects.filter(pk__in=self.ids, lease_until=self.until).update(lease_until=None)
        self.ids = set()


def generations_sweep() -> int:
    """The every-minute schedule's share: a dispatch, for a cluster started without the
    dispatcher loop."""
    return generations_dispatch()
