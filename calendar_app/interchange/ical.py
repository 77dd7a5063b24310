"""Personal iCal feeds: a secret address per user that Google Calendar or Outlook subscribes
to, read-only, covering the workspaces the user belongs to when it is read.

The token is long and random and only its SHA-256 is stored, so a copy of the database does
not give anyone the address; the address is shown once, when it is made. Revoking deletes
the row (the address answers 404), regenerating replaces it.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Prefetch
from django.utils import timezone
from icalendar import Calendar, Event

from calendar_app.core.calendar_grid import add_months
from calendar_app.models import (
    CalendarFeed,
    GenerationJob,
    Membership,
    PlannedSlot,
    SlotStatus,
)
from calendar_app.planning.scheduling import MAX_AHEAD_MONTHS

TOKEN_BYTES = 32  # 43 URL-safe characters
PAST = timedelta(days=60)
EVENT_LENGTH = timedelta(minutes=30)
EXCERPT_LINES = 4
EXCERPT_CHARS = 400
CONFIRMED = frozenset({SlotStatus.APPROVING, SlotStatus.SCHEDULED, SlotStatus.PUBLISHED})
CANCELLED = frozenset({SlotStatus.CANCELLED, SlotStatus.REJECTED, SlotStatus.REMOVED})


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def feed_enable(*, user) -> str:
    """Turns the user's feed on, or gives it a new address (the old one stops working).
    Returns the token, which is not kept anywhere and cannot be shown again."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    CalendarFeed.objects.update_or_create(
        user=user,
        defaults={"token_hash": _hash(token), "created_at": timezone.now(), "last_read_at": None},
    )
    return token


def feed_revoke(*, user) -> bool:
    """Turns the feed off; its address answers 404 from now on. False if it was off."""
    deleted, _ = CalendarFeed.objects.filter(user=user).delete()
    return bool(deleted)


def feed_of(user) -> CalendarFeed | None:
    return CalendarFeed.objects.filter(user=user).first()


def feed_for_token(token: str) -> CalendarFeed | None:
    """The feed this token opens, if it is on and its user may still sign in."""
    if not token or len(token) > 200:
        return None
    feed = CalendarFeed.objects.filter(token_hash=_hash(token)).select_related("user").first()
    if feed is None or not feed.user.is_active:
        return None
    return feed


def feed_slots(user, *, now=None) -> list[PlannedSlot]:
    """The live slots of the user's workspaces from PAST ago to the planning horizon."""
    now = now or timezone.now()
    workspaces = Membership.objects.filter(user=user).values("workspace_id")
    current = GenerationJob.objects.filter(is_current=True).only(
        "id", "slot_id", "is_current", "post_title", "post_content"
    )
    return list(
        PlannedSlot.objects.alive()
        .filter(workspace_id__in=workspaces)
        .filter(scheduled_for__gte=now - PAST, scheduled_for__lte=add_months(now, MAX_AHEAD_MONTHS))
        .select_related("workspace", "project", "note")
        .prefetch_related(Prefetch("jobs", queryset=current, to_attr="current_jobs"))
        .order_by("scheduled_for", "id")
    )


def _first_lines(text: str) -> str:
    lines = [line.rstrip() for line in text.strip().splitlines()]
    excerpt = "\n".join(lines[:EXCERPT_LINES])
    if len(excerpt) > EXCERPT_CHARS:
        excerpt = excerpt[: EXCERPT_CHARS - 1].rstrip() + "…"
    elif len(lines) > EXCERPT_LINES:
        excerpt += "\n…"
    return excerpt


def _event(slot: PlannedSlot, link: str) -> Event:
    job = slot.current_jobs[0] if slot.current_jobs else None
    post = (job.post_content or job.post_title) if job else ""
    text = post or slot.note.text
    headline = next((line.strip() for line in text.splitlines() if line.strip()), "")
    if len(headline) > 80:
        headline = headline[:79].rstrip() + "…"
    status = slot.get_status_display()
    start = timezone.localtime(slot.scheduled_for, slot.workspace.zone)
    event = Event()
    event.add("uid", f"{slot.public_id}@scripe-calendar")
    event.add("dtstamp", slot.updated_at)
    event.add("last-modified", slot.updated_at)
    event.add("dtstart", start)
    event.add("dtend", start + EVENT_LENGTH)
    event.add("summary", f"{slot.project.name}: {headline} ({status})")
    source = "Post" if post else "Note"
    description = (
        f"Project: {slot.project.name}\nStatus: {status}\nWorkspace: {slot.workspace.name}\n\n"
        f"{source}:\n{_first_lines(text)}\n\n{link}"
    )
    event.add("description", description)
    event.add("url", link)
    event.add("categories", [slot.project.name])
    if slot.status in CONFIRMED:
        event.add("status", "CONFIRMED")
    elif slot.status in CANCELLED:
        event.add("status", "CANCELLED")
    else:
        event.add("status", "TENTATIVE")
    event.add("transp", "TRANSPARENT")
    return event


def feed_calendar(feed: CalendarFeed, *, link_for) -> bytes:
    """The feed as iCalendar bytes; `link_for(slot)` is the slot page's absolute address."""
    user = feed.user
    calendar = Calendar()
    calendar.add("prodid", f"-//{settings.PRODUCT_NAME}//Plan//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", f"{settings.PRODUCT_NAME} ({user.get_username()})")
    calendar.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", "PT1H")
    for slot in feed_slots(user):
        calendar.add_component(_event(slot, link_for(slot)))
    calendar.add_missing_timezones()
    CalendarFeed.objects.filter(pk=feed.pk).update(last_read_at=timezone.now())
    return calendar.to_ical()
