"""The activity trail: every state change, edit and comment on a slot, with who and when."""

from __future__ import annotations

from calendar_app.models import PlannedSlot, SlotEvent
from calendar_app.notifications.services import slot_event_notify

Kind = SlotEvent.Kind


def record(
    slot: PlannedSlot,
    *,
    kind: str,
    actor=None,
    text: str = "",
    earlier_text: str = "",
    guest_name: str = "",
) -> SlotEvent:
    """Notes what just happened to the slot (a status change with the status it reached),
    and tells the people it concerns when it is news (calendar_app/notifications/services.py
    decides: status changes, and a guest's comment), in the same transaction: every path that
    moves a slot comes through here. `guest_name`: someone outside the app did it, through a
    review link (no actor)."""
    event = SlotEvent.objects.create(
        slot=slot,
        actor=actor,
        guest_name=guest_name,
        kind=kind,
        status=slot.status if kind == Kind.STATUS else "",
        text=text,
        earlier_text=earlier_text,
    )
    slot_event_notify(slot=slot, event=event)
    return event
