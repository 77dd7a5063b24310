"""The trail of each slot (`SlotEvent`), and notifications, email preferences and watches."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from calendar_app.models.slots import PlannedSlot, SlotStatus
from calendar_app.models.workspaces import Workspace, person_name
from scripe_integration.sentences import shown


class SlotEvent(models.Model):
    """The slot's activity trail: who did what and when, and the comments."""

    class Kind(models.TextChoices):
        COMMENT = "comment", _("Comment")
        STATUS = "status", _("Status change")
        EDIT = "edit", _("Draft edited")

    slot = models.ForeignKey(PlannedSlot, models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(max_length=12, choices=Kind.choices)
    status = models.CharField(max_length=24, choices=SlotStatus.choices, blank=True)
    text = models.TextField(blank=True)
    # The values of a sentence the app wrote ("Rescheduled from %(before)s to %(when)s."),
    # kept apart so each reader has it in their language and zone (sentences.py); None for
    # a comment, or a fixed sentence.
    params = models.JSONField(null=True, blank=True, editable=False)
    # An edit made in Scripe: the text it replaced, kept as a version.
    earlier_text = models.TextField(blank=True)
    # Someone outside the app who acted through a review link (ReviewLink): no actor, a name.
    guest_name = models.CharField(max_length=80, blank=True)
    # The way in, when it was not the app's pages: "API (<token name>)" for a change made
    # with a personal access token (notifications/trail.py `acting_via`).
    via = models.CharField(max_length=120, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on post {self.slot_id}"

    @property
    def sentence(self) -> str:
        """What the entry says, in the reader's language: a comment as written."""
        if self.kind == self.Kind.COMMENT:
            return self.text
        return shown(self.text, self.params)

    @property
    def who(self) -> str:
        if self.guest_name:
            return gettext("guest %(name)s") % {"name": self.guest_name}
        if self.actor is None:
            # Nobody in the app: the pipeline or the sync, reporting what Scripe did.
            return "Scripe" if self.kind != self.Kind.COMMENT else gettext("Someone")
        if self.via:
            return gettext("%(name)s via %(way)s") % {
                "name": person_name(self.actor),
                "way": self.via,
            }
        return person_name(self.actor)


# Notifications (#17) ---------------------------------------------------------------------------


class NotificationKind(models.TextChoices):
    """What a person is told about. Which slot event leads to which kind, and who hears of
    it, is one table in calendar_app/notifications/services.py."""

    REVIEW_READY = "review_ready", _("A draft is ready for review")
    CHANGES_REQUESTED = "changes_requested", _("Changes were requested")
    REJECTED = "rejected", _("A draft was rejected")
    APPROVED = "approved", _("A post was approved and scheduled")
    PUBLISHED = "published", _("A post was published")
    FAILED = "failed", _("A generation failed")
    MISSED = "missed", _("A draft missed its time")
    REMOVED = "removed", _("A post was removed in Scripe")
    GUEST_COMMENT = "guest_comment", _("A client commented through a review link")
    KEY_INVALID = "key_invalid", _("The Scripe key stopped working")
    SPEND_CAP = "spend_cap", _("Scripe's daily spend cap was reached")
    WEBHOOK_DISABLED = "webhook_disabled", _("A webhook endpoint was turned off")


class EmailChoice(models.TextChoices):
    IMMEDIATE = "immediate", _("Email at once")
    DIGEST = "digest", _("Daily digest")
    OFF = "off", _("No email")


class Notification(models.Model):
    """One thing one person is told, in the app (read or not) and by email (its own state:
    a send is retried by its task and never touches the event that caused it)."""

    class Email(models.TextChoices):
        NONE = "none", _("Not emailed")
        PENDING = "pending", _("To be sent")
        DIGEST = "digest", _("For the daily digest")
        SENDING = "sending", _("Being sent")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="notifications")
    workspace = models.ForeignKey(Workspace, models.CASCADE, related_name="+")
    slot = models.ForeignKey(
        PlannedSlot, models.CASCADE, null=True, blank=True, related_name="notifications"
    )
    kind = models.CharField(max_length=24, choices=NotificationKind.choices)
    text = models.CharField(max_length=500)
    detail = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)
    # Events that must be told once (the spend cap: once a workspace a UTC day) carry a key;
    # a second insert with the same key for the same person is ignored.
    dedupe_key = models.CharField(max_length=120, blank=True)
    email = models.CharField(max_length=8, choices=Email.choices, default=Email.NONE)
    email_attempts = models.PositiveSmallIntegerField(default=0)
    email_error = models.CharField(max_length=300, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)
    # When `email` last changed: how the sweep tells a send a dead worker left half done.
    email_state_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "-created_at"], name="notification_user_recent"),
            # The bell: one count of a person's unread notifications, on every live poll.
            models.Index(
                fields=["user"], condition=Q(read_at__isnull=True), name="notification_unread"
            ),
            models.Index(
                fields=["email", "user"],
                condition=Q(email__in=["pending", "digest", "sending"]),
                name="notification_email_due",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "dedupe_key"],
                condition=~Q(dedupe_key=""),
                name="one_notification_per_dedupe_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for {self.user}"


class NotificationPreference(models.Model):
    """A person's choice of email for one kind; without a row, the kind's default holds
    (notifications.DEFAULT_EMAIL). In the app, every notification shows."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.CASCADE, related_name="notification_preferences"
    )
    kind = models.CharField(max_length=24, choices=NotificationKind.choices)
    email = models.CharField(max_length=12, choices=EmailChoice.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "kind"], name="one_preference_per_kind")
        ]

    def __str__(self) -> str:
        return f"{self.user}: {self.kind} → {self.email}"


class SlotWatch(models.Model):
    """Someone who wants to hear what happens to a slot they did not plan (its creator
    always does). Commenting watches it."""

    slot = models.ForeignKey(PlannedSlot, models.CASCADE, related_name="watches")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["slot", "user"], name="one_watch_per_user")]

    def __str__(self) -> str:
        return f"{self.user} watches post {self.slot_id}"
