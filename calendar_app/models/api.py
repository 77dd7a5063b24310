"""The REST API's tables (#27): personal access tokens, and the answers kept for
`Idempotency-Key` replays."""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from calendar_app.models.workspaces import Role, Workspace

# How long an answer stays replayable under its Idempotency-Key (Scripe keeps them 24 h).
IDEMPOTENCY_KEEP = timedelta(hours=24)


class Scope(models.TextChoices):
    """What a token may do, each within what its person's role allows (`SCOPES_BY_ROLE`)."""

    READ = "read", _("Read")
    PLAN = "plan", _("Plan")
    REVIEW = "review", _("Review")
    ADMIN = "admin", _("Admin")


# The scopes a role may give its tokens: never more than the person could do in the app.
SCOPES_BY_ROLE = {
    Role.EDITOR: (Scope.READ, Scope.PLAN),
    Role.MANAGER: (Scope.READ, Scope.PLAN, Scope.REVIEW),
    Role.ADMIN: (Scope.READ, Scope.PLAN, Scope.REVIEW, Scope.ADMIN),
}


class ApiTokenQuerySet(models.QuerySet):
    def usable(self) -> ApiTokenQuerySet:
        """Neither revoked nor expired, now."""
        return self.filter(revoked_at__isnull=True).filter(
            models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=timezone.now())
        )


class ApiToken(models.Model):
    """A personal access token: a request carrying it acts as its person in its workspace,
    with its scopes (cut to what the person's role allows at the time of the request). Only
    the SHA-256 of the secret is stored; the secret is shown once, when it is made."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="api_tokens")
    workspace = models.ForeignKey(Workspace, models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=80)
    # A comma-separated subset of Scope, in Scope's order.
    scopes = models.CharField(max_length=60)
    token_hash = models.CharField(max_length=64, unique=True)
    # The first characters of the secret (after its prefix), so a person can tell tokens apart.
    hint = models.CharField(max_length=16)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"API token {self.name} of {self.user}"

    @property
    def scope_list(self) -> list[str]:
        return [s for s in self.scopes.split(",") if s]

    @property
    def is_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()

    @property
    def state(self) -> str:
        if self.revoked_at:
            return "revoked"
        return "expired" if self.is_expired else "active"


class IdempotentRequest(models.Model):
    """A POST made with an `Idempotency-Key`, per token and route: the body's hash and, once
    answered, the answer, replayed verbatim to the same key and body until `expires_at`. A
    row without a status is a request still being answered."""

    token = models.ForeignKey(ApiToken, models.CASCADE, related_name="+")
    route = models.CharField(max_length=300)
    key = models.CharField(max_length=64)
    body_hash = models.CharField(max_length=64)
    status = models.PositiveSmallIntegerField(null=True, blank=True)
    body = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["token", "route", "key"], name="one_answer_per_idempotency_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.route} with key {self.key}"
