"""The activity trail: every state change, edit and comment on a slot, with who and when, and
the way in when it was not the app's pages (`acting_via`: the REST API)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from calendar_app.models import PlannedSlot, SlotEvent
from calendar_app.notifications.services import slot_event_notify
from calendar_app.outbound.events import webhooks_emit
from scripe_integration.sentences import stored

Kind = SlotEvent.Kind

# Set for the length of a request that came another way than the pages (the REST API says
# "API (<token name>)"): every service it calls records through here, so none of them needs
# to carry it.
_via: ContextVar[str] = ContextVar("trail_via", default="")


@contextmanager
def acting_via(way: str) -> Iterator[None]:
    """Every entry recorded inside says it came `way` ("API (CRM sync)")."""
    reset = _via.set(way[:120])
    try:
        yield
    finally:
        _via.reset(reset)


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
    review link (no actor). Made by a person inside `acting_via`, it says the way they came.
    The workspace's webhook endpoints hear of it too (calendar_app/outbound/events.py queues
    their deliveries, sent after the commit). `text`: a person's words, a fixed sentence
    (marked with `gettext_noop`), or a `Said` whose values are kept apart, so that each reader
    has it in their language and zone."""
    text, params = stored(text)
    event = SlotEvent.objects.create(
        slot=slot,
        actor=actor,
        guest_name=guest_name,
        via=_via.get() if actor is not None else "",
        kind=kind,
        status=slot.status if kind == Kind.STATUS else "",
        text=text,
        params=params,
        earlier_text=earlier_text,
    )
    slot_event_notify(slot=slot, event=event)
    webhooks_emit(slot=slot, event=event)
    return event
