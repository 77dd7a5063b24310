"""The bodies of outgoing webhooks (calendar_app/outbound): the API's own representations
(`PostSerializer`, `SourceSerializer`), so a receiver reads the same fields as a client of
the REST API. A post's is built by the task at a delivery's first attempt and stored with it;
a source's when it becomes ready (the task `announce_source_ready`)."""

from __future__ import annotations

from django.db.models import Prefetch

from calendar_app.api.serializers import PostSerializer, SourceSerializer
from calendar_app.models import (
    HookPlan,
    Label,
    PlannedSlot,
    Source,
    SourceStatus,
    WebhookDelivery,
    Workspace,
)
from calendar_app.outbound.events import envelope


def post_event_body(delivery: WebhookDelivery) -> bytes | None:
    """`{"id", "type", "createdAt", "data": {"post": …}}` for the delivery's post as it is
    now; None when the post no longer exists. A deleted post (within its undo time) is
    still described."""
    slot = (
        PlannedSlot.objects.filter(pk=delivery.slot_id)
        .select_related("workspace", "project", "note")
        .with_current_attempt()
        .prefetch_related(Prefetch("labels", queryset=Label.objects.order_by("name", "id")))
        .first()
        if delivery.slot_id is not None
        else None
    )
    if slot is None:
        return None
    data = {"post": PostSerializer(slot).data}
    return envelope(delivery.event_id, delivery.event_type, delivery.created_at, data)


def source_ready_data(source_id: int) -> tuple[Workspace, dict] | None:
    """The source's workspace and its API representation (`SourceSerializer`, with its
    planned hooks), for the source.ready event; None when the source is gone."""
    source = (
        Source.objects.filter(pk=source_id, status=SourceStatus.READY)
        .select_related("workspace", "project")
        .first()
    )
    if source is None:
        return None
    plans = dict(HookPlan.objects.filter(source=source).values_list("hook_id", "slot__public_id"))
    return source.workspace, SourceSerializer(source, context={"plans": plans}).data
