"""The activity trail: every state change, edit and comment on a slot, with who and when."""

from __future__ import annotations

from calendar_app.models import PlannedSlot, SlotEvent

Kind = SlotEvent.Kind


def record(slot: PlannedSlot, *, kind: str, actor=None, text: str = "") -> SlotEvent:
    """Notes what just happened to the slot; a status change records the status it reached."""
    return SlotEvent.objects.create(
        slot=slot,
        actor=actor,
        kind=kind,
        status=slot.status if kind == Kind.STATUS else "",
        text=text,
    )
