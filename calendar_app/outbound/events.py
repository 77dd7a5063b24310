"""Which trail entry is which webhook event, and the emit step.

`trail.record` (calendar_app/notifications/trail.py) calls `webhooks_emit` for every entry,
so, as with notifications, no path that moves a post can forget to tell. The emit step runs
in the transaction of what happened and sends nothing: it writes one `WebhookDelivery` for
each active endpoint of the workspace subscribed to the event, and enqueues their first
attempt once the transaction commits (a rolled-back change tells nobody). The body is built
by the task, at that first attempt.

The table, from the status an entry says the post reached (`STATUS_EVENTS`):
planned (the post's first status) → post.planned; ready for review → draft.ready; a request
for changes (the rewrite it starts: queued with the manager's comment as steering, or the
status itself) → changes.requested; rejected → post.rejected; scheduled → post.scheduled,
and also post.approved when it follows an approval's claim (`approving`), but post.changed
when it was scheduled already (a reschedule); published → post.published; failed or missed
→ post.failed; removed in Scripe → post.removed. An edit (the text, the time, labels) →
post.changed. A status reached again is not news; comments are not events.
source.ready belongs to the sources (another capability): where a source becomes ready, the
ingest calls `source_ready_tell`, which (if an endpoint listens) has a task build the API's
representation once the transaction commits (the API sits above the sources) and call
`source_ready_emit` with it.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime

from django.db import transaction
from django.utils import timezone

from calendar_app.models import (
    PlannedSlot,
    SlotEvent,
    SlotStatus,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
    Workspace,
)

E = WebhookEvent
TASK = "calendar_app.tasks.send_webhook"
SOURCE_READY_TASK = "calendar_app.tasks.announce_source_ready"

STATUS_EVENTS = {
    SlotStatus.DRAFT: E.POST_PLANNED,
    SlotStatus.IN_REVIEW: E.DRAFT_READY,
    SlotStatus.CHANGES_REQUESTED: E.CHANGES_REQUESTED,
    SlotStatus.REJECTED: E.POST_REJECTED,
    SlotStatus.SCHEDULED: E.POST_SCHEDULED,
    SlotStatus.PUBLISHED: E.POST_PUBLISHED,
    SlotStatus.FAILED: E.POST_FAILED,
    SlotStatus.MISSED: E.POST_FAILED,
    SlotStatus.REMOVED: E.POST_REMOVED,
}


def webhooks_emit(*, slot: PlannedSlot, event: SlotEvent) -> list[WebhookDelivery]:
    """Queues the webhook deliveries a trail entry calls for (see the module's docstring).
    One query when the workspace has no active endpoint; the entry is judged only when one
    listens."""
    endpoints = _listening(slot.workspace_id)
    if not endpoints:
        return []
    types = events_for(slot, event)
    return _queue(endpoints, types, slot=slot)


def source_ready_emit(*, workspace: Workspace, source: dict) -> list[WebhookDelivery]:
    """The emit point for source.ready, for the sources' capability to call when a source is
    read, with the API's representation of the source: the body is stored at once, as
    `{"data": {"source": …}}`."""
    return _queue(_listening(workspace.pk), [E.SOURCE_READY], slot=None, data={"source": source})


def source_ready_tell(*, source_id: int, workspace_id: int) -> bool:
    """Called in the transaction where a source became ready. One query when nobody listens
    for source.ready; else the announcing task is enqueued once the transaction commits."""
    if not any(E.SOURCE_READY in e.events for e in _listening(workspace_id)):
        return False
    transaction.on_commit(lambda: announce(source_id))
    return True


def announce(source_id: int) -> None:
    from django_q.tasks import async_task

    async_task(
        SOURCE_READY_TASK, source_id, task_name=f"source-ready-{source_id}", group="webhooks"
    )


def events_for(slot: PlannedSlot, event: SlotEvent) -> list[str]:
    """The webhook events a trail entry is, in the order they are sent."""
    if event.kind == SlotEvent.Kind.EDIT:
        return [E.POST_CHANGED]
    if event.kind != SlotEvent.Kind.STATUS:
        return []
    status = event.status
    if status == SlotStatus.QUEUED:
        asked = slot.jobs.filter(is_current=True).exclude(steering="").exists()
        return [E.CHANGES_REQUESTED] if asked else []
    if status not in STATUS_EVENTS:
        return []
    earlier = list(
        slot.events.filter(kind=SlotEvent.Kind.STATUS, pk__lt=event.pk)
        .order_by("-created_at", "-id")
        .values_list("status", flat=True)[:3]
    )
    # A claim (`approving`) is the moment of an approval or a reschedule, not a state.
    before = next((s for s in earlier if s != SlotStatus.APPROVING), None)
    if status == SlotStatus.DRAFT and earlier:
        return []  # planned once; a draft again later is not a new post
    if status == SlotStatus.SCHEDULED:
        if before == SlotStatus.SCHEDULED:
            return [E.POST_CHANGED]
        if earlier and earlier[0] == SlotStatus.APPROVING:
            return [E.POST_APPROVED, E.POST_SCHEDULED]
        return [E.POST_SCHEDULED]
    return [] if before == status else [STATUS_EVENTS[status]]


def _listening(workspace_id: int) -> list[WebhookEndpoint]:
    # A workspace has a handful of endpoints: their events are matched here rather than in
    # SQL (a JSON list, which SQLite cannot search).
    return list(
        WebhookEndpoint.objects.filter(workspace_id=workspace_id, is_active=True).only(
            "pk", "events"
        )
    )


def _queue(
    endpoints: list[WebhookEndpoint],
    types: Iterable[str],
    *,
    slot: PlannedSlot | None,
    data: dict | None = None,
) -> list[WebhookDelivery]:
    rows = []
    now = timezone.now()
    for event_type in types:
        event_id = f"evt_{uuid.uuid4().hex}"
        body = "" if data is None else envelope(event_id, event_type, now, data).decode()
        rows += [
            WebhookDelivery(
                endpoint=e,
                event_id=event_id,
                event_type=event_type,
                slot=slot,
                body=body,
                created_at=now,
                next_attempt_at=now,
            )
            for e in endpoints
            if event_type in e.events
        ]
    if not rows:
        return []
    rows = WebhookDelivery.objects.bulk_create(rows)
    ids = [row.pk for row in rows]
    transaction.on_commit(lambda: enqueue(ids))
    return rows


def envelope(event_id: str, event_type: str, created_at: datetime, data: dict) -> bytes:
    """A delivery's body: `{"id", "type", "createdAt", "data"}`, as compact UTF-8 JSON."""
    payload = {
        "id": event_id,
        "type": event_type,
        "createdAt": created_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "data": data,
    }
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


def enqueue(delivery_ids: Iterable[int]) -> None:
    from django_q.tasks import async_task

    for pk in delivery_ids:
        async_task(TASK, pk, task_name=f"webhook-{pk}", group="webhooks")
