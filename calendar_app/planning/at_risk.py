"""At risk: posts that will likely miss their time. Not written yet with less time left than
Scripe's usual time plus the team's usual review, or in review with less than the usual review
left. "Usual" is the median of the last 90 days (defaults until there are enough samples).
The calendar's and the list's "At risk" filter and the insights page's lane share this rule."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import (
    Count,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)
from django.utils import timezone

from calendar_app.core.aggregates import (
    Percentile,
    seconds_between,
)
from calendar_app.models import (
    GenerationJob,
    SlotEvent,
    SlotStatus,
    Workspace,
)

# "Usual" times are medians over this much history; without any, these defaults stand in.
HISTORY = timedelta(days=90)


DEFAULT_GENERATION = timedelta(minutes=10)


DEFAULT_REVIEW = timedelta(hours=4)


# A median of fewer than this many is not "usual": one quick review must not shrink the
# review time every draft is given to a few minutes.
MIN_SAMPLES = 5


# A manager's decision on a draft in review: the status event right after "ready for review",
# made by a person. Approving (the claim before Scripe is asked), rejecting, or asking for
# changes (which records the new attempt, queued, by the manager). Drafts that missed their
# time, or were scheduled from Scripe's dashboard, were not decided here and do not count.
DECISION_STATUSES = (SlotStatus.APPROVING, SlotStatus.REJECTED, SlotStatus.QUEUED)


def review_decisions(events: QuerySet) -> QuerySet:
    """Decision events, each with `ready_at`: when the draft it decides became ready."""
    before = SlotEvent.objects.filter(
        slot_id=OuterRef("slot_id"), kind=SlotEvent.Kind.STATUS
    ).filter(
        Q(created_at__lt=OuterRef("created_at"))
        | Q(created_at=OuterRef("created_at"), id__lt=OuterRef("id"))
    )
    previous = before.order_by("-created_at", "-id")
    return (
        events.filter(kind=SlotEvent.Kind.STATUS, status__in=DECISION_STATUSES, actor__isnull=False)
        .annotate(
            previous_status=Subquery(previous.values("status")[:1]),
            ready_at=Subquery(previous.values("created_at")[:1]),
        )
        .filter(previous_status=SlotStatus.IN_REVIEW)
    )


# Not written yet: the time left must still hold Scripe's usual time and the usual review.
NOT_WRITTEN = frozenset(
    {
        SlotStatus.DRAFT,
        SlotStatus.QUEUED,
        SlotStatus.GENERATING,
        SlotStatus.FAILED,
        SlotStatus.CANCELLED,
        SlotStatus.CHANGES_REQUESTED,
        SlotStatus.REMOVED,
    }
)


@dataclass(frozen=True)
class UsualTimes:
    generation: timedelta = DEFAULT_GENERATION
    review: timedelta = DEFAULT_REVIEW
    generation_known: bool = False
    review_known: bool = False


def usual_times(
    workspaces: list[Workspace], *, now: datetime | None = None
) -> dict[int, UsualTimes]:
    """Per workspace, the median time Scripe took and the median review turnaround over
    HISTORY (the defaults where there are fewer than MIN_SAMPLES; no review time where review
    is off). Two queries."""
    now = now or timezone.now()
    ids = [w.pk for w in workspaces]
    took = seconds_between("accepted_at", "completed_at")
    generation = (
        GenerationJob.objects.filter(
            slot__workspace_id__in=ids,
            scripe_status="DONE",
            error_code="",
            accepted_at__isnull=False,
            completed_at__gte=now - HISTORY,
        )
        .values("slot__workspace_id")
        .annotate(n=Count("id"), median=Percentile(took, 0.5))
        .order_by()
    )
    gen = {r["slot__workspace_id"]: r["median"] for r in generation if r["n"] >= MIN_SAMPLES}
    events = SlotEvent.objects.filter(slot__workspace_id__in=ids, created_at__gte=now - HISTORY)
    review = (
        review_decisions(events)
        .values("slot__workspace_id")
        .annotate(n=Count("id"), median=Percentile(seconds_between("ready_at", "created_at"), 0.5))
        .order_by()
    )
    rev = {r["slot__workspace_id"]: r["median"] for r in review if r["n"] >= MIN_SAMPLES}
    usual = {}
    for workspace in workspaces:
        g, r = gen.get(workspace.pk), rev.get(workspace.pk)
        usual[workspace.pk] = UsualTimes(
            generation=timedelta(seconds=g) if g is not None else DEFAULT_GENERATION,
            review=(
                timedelta(0)
                if not workspace.review_required
                else timedelta(seconds=r)
                if r is not None
                else DEFAULT_REVIEW
            ),
            generation_known=g is not None,
            review_known=r is not None,
        )
    return usual


def at_risk_condition(
    workspaces: list[Workspace], *, now: datetime | None = None, usual: dict | None = None
) -> Q:
    """Slots that will likely miss their time: still to be written with less than Scripe's
    usual time plus the usual review left, or in review with less than the usual review
    left. Their time is still ahead (what has passed is missed, not at risk)."""
    now = now or timezone.now()
    usual = usual if usual is not None else usual_times(workspaces, now=now)
    condition = Q(pk__in=[])
    for workspace in workspaces:
        times = usual[workspace.pk]
        unwritten = Q(
            status__in=NOT_WRITTEN, scheduled_for__lt=now + times.generation + times.review
        )
        in_review = Q(status=SlotStatus.IN_REVIEW, scheduled_for__lt=now + times.review)
        condition |= Q(workspace_id=workspace.pk, scheduled_for__gt=now) & (unwritten | in_review)
    return condition
