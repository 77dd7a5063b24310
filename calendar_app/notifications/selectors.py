"""What a person reads of their notifications: the bell's count, the list, one notification, and
whether they watch a post."""

from __future__ import annotations

from calendar_app.models import (
    Notification,
    PlannedSlot,
    SlotWatch,
)

LIST_LIMIT = 50


def unread_count(user) -> int:
    """The bell's number: one count on the partial index of unread rows."""
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def notifications_for(user, *, limit: int = LIST_LIMIT) -> list[Notification]:
    """The person's latest notifications, newest first, with what links them to a slot."""
    rows = Notification.objects.filter(user=user).select_related("slot")
    return list(rows.only(*_LISTED)[:limit])


_LISTED = (
    "public_id",
    "kind",
    "text",
    "detail",
    "created_at",
    "read_at",
    "slot__public_id",
    "slot__deleted_at",
)


def is_watching(*, slot: PlannedSlot, user) -> bool:
    return SlotWatch.objects.filter(slot=slot, user=user).exists()


def notification_of(user, public_id) -> Notification | None:
    """One of the person's notifications, with its slot; anyone else's is None."""
    return (
        Notification.objects.filter(user=user, public_id=public_id).select_related("slot").first()
    )
