"""The body of an outgoing webhook about a post (calendar_app/outbound): the API's own
representation of it (`PostSerializer`), so a receiver reads the same fields as a client of
the REST API. Built by the task at a delivery's first attempt and stored with it."""

from __future__ import annotations

from django.db.models import Prefetch

from calendar_app.api.serializers import PostSerializer
from calendar_app.models import Label, PlannedSlot, WebhookDelivery
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
