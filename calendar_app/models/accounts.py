"""Invitations (#28): how a workspace's managers and admins bring a person into the team. An
invitation names an email and a role; its link carries a random secret stored only as a hash,
works once and for seven days."""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from calendar_app.models.workspaces import Role, Workspace

INVITATION_DAYS = 7


def invitation_expiry():
    return timezone.now() + timedelta(days=INVITATION_DAYS)


class InvitationState(models.TextChoices):
    PENDING = "pending", _("Pending")
    ACCEPTED = "accepted", _("Accepted")
    REVOKED = "revoked", _("Revoked")


class Invitation(models.Model):
    """One person invited to one workspace. Every change of `state` is a conditional UPDATE
    on the state it expects (calendar_app/accounts/invitations.py), so a link used twice at
    once makes one member, and a revoke racing an accept is decided once."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    workspace = models.ForeignKey(Workspace, models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.EDITOR)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, related_name="+"
    )
    # SHA-256 of the link's secret: a leaked table opens no workspace.
    token_hash = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField(default=invitation_expiry)
    state = models.CharField(
        max_length=12, choices=InvitationState.choices, default=InvitationState.PENDING
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # When the email last went out; empty while it could not be sent.
    sent_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # Inviting a pending address again resends its invitation rather than making a
            # second link that would outlive a revoke of the first.
            models.UniqueConstraint(
                fields=["workspace", "email"],
                condition=models.Q(state="pending"),
                name="one_pending_invitation_per_email",
            )
        ]

    def __str__(self) -> str:
        return f"{self.email} to {self.workspace} ({self.get_role_display()}, {self.state})"

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()
