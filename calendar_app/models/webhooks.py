"""Outgoing webhooks (#27): the endpoints a workspace's admins register, and one delivery per
event and endpoint, with its stored body and what the last attempt got back."""

from __future__ import annotations

import re
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from calendar_app.models.slots import PlannedSlot
from calendar_app.models.workspaces import Workspace


class WebhookEvent(models.TextChoices):
    """What an endpoint may subscribe to. Which trail entry is which event is one table in
    calendar_app/outbound/events.py."""

    POST_PLANNED = "post.planned", _("A post is planned")
    POST_CHANGED = "post.changed", _("A post is edited, moved or rescheduled")
    DRAFT_READY = "draft.ready", _("A draft is ready for review")
    POST_APPROVED = "post.approved", _("A post is approved")
    CHANGES_REQUESTED = "changes.requested", _("Changes are requested")
    POST_REJECTED = "post.rejected", _("A draft is rejected")
    POST_SCHEDULED = "post.scheduled", _("A post is scheduled in Scripe")
    POST_PUBLISHED = "post.published", _("A post is published")
    POST_FAILED = "post.failed", _("A generation failed, or a draft missed its time")
    POST_REMOVED = "post.removed", _("A post is removed in Scripe")
    SOURCE_READY = "source.ready", _("A source is read and ready")


class WebhookEndpoint(models.Model):
    """An address the workspace's events are POSTed to, signed with its secret. The secret
    is stored encrypted (scripe_integration/crypto.py) and shown once; after a rotation the
    previous one still signs until `previous_secret_until`, so a receiver can switch over."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    workspace = models.ForeignKey(Workspace, models.CASCADE, related_name="webhook_endpoints")
    url = models.URLField(max_length=500)
    description = models.CharField(max_length=200, blank=True)
    # A list of WebhookEvent values.
    events = models.JSONField(default=list)
    secret_encrypted = models.TextField()
    previous_secret_encrypted = models.TextField(blank=True)
    previous_secret_until = models.DateTimeField(null=True, blank=True)
    is_active = models.BooleanField(default=True)
    # Why it stopped (a day of failures), in words; empty when an admin turned it off.
    disabled_reason = models.CharField(max_length=300, blank=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    # Since when every attempt failed; None once one succeeds. A day of it disables.
    failing_since = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.url

    def event_labels(self) -> list[str]:
        return [WebhookEvent(e).label for e in self.events if e in WebhookEvent.values]

    @property
    def disabled_sentence(self) -> str:
        """Why it was turned off, in the reader's language (stored in English by a task)."""
        if found := re.fullmatch(r"Every delivery failed for (\d+) hours\.", self.disabled_reason):
            hours = int(found[1])
            return ngettext(
                "Every delivery failed for %(hours)s hour.",
                "Every delivery failed for %(hours)s hours.",
                hours,
            ) % {"hours": hours}
        return gettext(self.disabled_reason) if self.disabled_reason else ""

    def disable(self, *, reason: str = "") -> bool:
        """Stops deliveries to it; False when it was not active (someone else did it first)."""
        now = timezone.now()
        done = WebhookEndpoint.objects.filter(pk=self.pk, is_active=True).update(
            is_active=False, disabled_at=now, disabled_reason=reason[:300]
        )
        if done:
            self.is_active, self.disabled_at, self.disabled_reason = False, now, reason[:300]
        return bool(done)

    def enable(self) -> bool:
        """Deliveries start again, with a clean failure record; False when it was active."""
        done = WebhookEndpoint.objects.filter(pk=self.pk, is_active=False).update(
            is_active=True, disabled_at=None, disabled_reason="", failing_since=None
        )
        if done:
            self.is_active, self.disabled_at, self.disabled_reason = True, None, ""
            self.failing_since = None
        return bool(done)


class WebhookDelivery(models.Model):
    """One event for one endpoint. Its body is built at the first attempt and stored, so
    every retry and every "Send again" sends the very same bytes (a new signature each
    time, over a new timestamp)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        SENDING = "sending", _("Sending")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    endpoint = models.ForeignKey(WebhookEndpoint, models.CASCADE, related_name="deliveries")
    # The payload's `id`: the same for every endpoint told of the event, and on every retry.
    event_id = models.CharField(max_length=40)
    event_type = models.CharField(max_length=40, choices=WebhookEvent.choices)
    slot = models.ForeignKey(PlannedSlot, models.SET_NULL, null=True, blank=True, related_name="+")
    body = models.TextField(blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    first_attempt_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # When a task took it (status sending): a sweep hands on one a dead worker left.
    claimed_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    # The answer's first lines (capped), or why there was none.
    response_head = models.CharField(max_length=600, blank=True)
    error = models.CharField(max_length=300, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["endpoint", "-created_at"], name="delivery_endpoint_recent"),
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status__in=["pending", "sending"]),
                name="delivery_due",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} to {self.endpoint_id}"

    @property
    def error_sentence(self) -> str:
        """Why the last attempt failed, in the reader's language: a task stores it in English
        (calendar_app/outbound/services.py and the HTTP client's sentences); what the
        receiver or the network said inside it stays as it was."""
        for pattern, sentence in _DELIVERY_ERRORS:
            if found := re.fullmatch(pattern, self.error, flags=re.DOTALL):
                return sentence() % found.groupdict()
        return gettext(self.error) if self.error else ""

    def claim(self) -> bool:
        """Takes a due delivery for one attempt; False when it is not due or another task
        has it (the conditional UPDATE lets exactly one of two racing tasks send it)."""
        now = timezone.now()
        done = WebhookDelivery.objects.filter(
            pk=self.pk, status=self.Status.PENDING, next_attempt_at__lte=now
        ).update(status=self.Status.SENDING, claimed_at=now)
        if done:
            self.status, self.claimed_at = self.Status.SENDING, now
        return bool(done)

    def again(self) -> bool:
        """Due now once more ("Send again"); False while an attempt is under way."""
        done = (
            WebhookDelivery.objects.filter(pk=self.pk)
            .exclude(status=self.Status.SENDING)
            .update(status=self.Status.PENDING, next_attempt_at=timezone.now())
        )
        return bool(done)


# The stored English sentences with a part that varies, and their translations.
_DELIVERY_ERRORS = [
    (
        r"The receiver answered (?P<status>\d+)\.",
        lambda: gettext("The receiver answered %(status)s."),
    ),
    (
        r"No answer in time \((?P<error>[^)]*)\)\.",
        lambda: gettext("No answer in time (%(error)s)."),
    ),
    (r"Could not connect: (?P<error>.*)", lambda: gettext("Could not connect: %(error)s")),
    (
        r"The connection broke \((?P<error>[^)]*)\)\.",
        lambda: gettext("The connection broke (%(error)s)."),
    ),
]
