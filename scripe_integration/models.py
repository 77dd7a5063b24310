"""A workspace's link to Scripe: its API key or its OAuth tokens (encrypted at rest), their
health, whether Scripe answers, and what Scripe last said about rate limits and deprecations.
A workspace uses one or the other: connecting by OAuth drops the key, setting a key drops
the OAuth tokens. `ScripeOAuthApp` is this app as registered with one Scripe's OAuth server.

The library does not know what a workspace is in the host project: the connection points at
the model named by `settings.SCRIPE_CONNECTION_OWNER_MODEL`, the way a reusable app points
at `AUTH_USER_MODEL`.
"""

from __future__ import annotations

import logging
import re
import uuid
from datetime import UTC, date, datetime, time, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from scripe_integration import crypto, destinations, signals
from scripe_integration.sentences import Said, stored

logger = logging.getLogger(__name__)

KEY_FORMAT = re.compile(r"^scripe_sk_(live|test)_[A-Za-z0-9]{8,}$")


BASE_URL_REFUSED = (
    f"{destinations.REFUSED}, such as https://api.scripe.io/v1. Local and private addresses "
    "are allowed only when the server sets SCRIPE_ALLOW_LOCAL_HOSTS."
)


def default_base_url() -> str:
    return settings.SCRIPE_API_BASE_URL


def validate_base_url(value: str) -> None:
    """The destination rule for a base URL an admin enters: https, resolving to public
    addresses only (unless SCRIPE_ALLOW_LOCAL_HOSTS). Asks DNS, so only for input."""
    try:
        destinations.check_url(value)
    except destinations.NameNotFound as unknown:
        raise ValidationError(f"{unknown}.") from None
    except destinations.DestinationRefused:
        raise ValidationError(BASE_URL_REFUSED) from None


def validate_key_format(value: str) -> None:
    if not KEY_FORMAT.match(value or ""):
        raise ValidationError(
            "A Scripe API key looks like scripe_sk_live_… or scripe_sk_test_… followed by at "
            "least 8 letters or digits. Copy it again from Scripe → Settings → Developer."
        )


class ScripeOAuthApp(models.Model):
    """This app's client registration with the OAuth server of one Scripe (RFC 7591), made
    once per base URL and redirect URI (and again when the scopes the calendar needs grow)
    and reused by every workspace connecting there. A
    public client: no secret. `server` is the discovered metadata (RFC 8414), so that a
    refresh does not ask discovery again."""

    base_url = models.URLField(max_length=300)
    redirect_uri = models.URLField(max_length=500)
    client_id = models.CharField(max_length=200)
    server = models.JSONField(default=dict)
    registered_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "Scripe OAuth registration"
        # Not unique per Scripe: when the calendar needs more scopes it registers again,
        # and the earlier registration stays for the grants made to it.
        indexes = [models.Index(fields=["base_url", "redirect_uri"], name="oauth_app_per_scripe")]

    def __str__(self) -> str:
        return f"{self.client_id} at {self.base_url}"


class ScripeConnection(models.Model):
    class AuthMethod(models.TextChoices):
        KEY = "key", "API key"
        OAUTH = "oauth", "Connected with Scripe (OAuth)"

    class KeyState(models.TextChoices):
        MISSING = "missing", "No key"
        UNVERIFIED = "unverified", "Not verified"
        VALID = "valid", "Valid"
        INVALID = "invalid", "Invalid"

    workspace = models.OneToOneField(
        settings.SCRIPE_CONNECTION_OWNER_MODEL, models.CASCADE, related_name="scripe"
    )
    base_url = models.URLField(
        max_length=300,
        default=default_base_url,
        help_text="Scripe's API root, e.g. https://api.scripe.io/v1 or a local sandbox.",
    )
    encrypted_key = models.TextField(blank=True, editable=False)
    # The base URL the key was entered for: the key is only ever sent there.
    key_base_url = models.URLField(max_length=300, blank=True, editable=False)
    key_hint = models.CharField(max_length=40, blank=True, editable=False)
    key_mode = models.CharField(max_length=8, blank=True, editable=False)
    key_set_at = models.DateTimeField(null=True, blank=True, editable=False)
    key_set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    key_state = models.CharField(
        max_length=12, choices=KeyState.choices, default=KeyState.MISSING, editable=False
    )
    key_error_code = models.CharField(max_length=60, blank=True, editable=False)
    key_error_message = models.CharField(max_length=500, blank=True, editable=False)
    # Its values, apart (sentences.py): each admin reads the problem in their own language.
    key_error_params = models.JSONField(null=True, blank=True, editable=False)
    verified_at = models.DateTimeField(null=True, blank=True, editable=False)
    scripe_workspace_id = models.CharField(max_length=80, blank=True, editable=False)
    scripe_workspace_name = models.CharField(max_length=200, blank=True, editable=False)
    plan = models.CharField(max_length=40, blank=True, editable=False)
    scopes = models.JSONField(default=list, blank=True, editable=False)
    rate_limit = models.PositiveIntegerField(null=True, blank=True, editable=False)
    rate_limit_remaining = models.PositiveIntegerField(null=True, blank=True, editable=False)
    rate_limit_reset_at = models.DateTimeField(null=True, blank=True, editable=False)
    rate_limit_seen_at = models.DateTimeField(null=True, blank=True, editable=False)
    # No call for this workspace before this time: a 429's Retry-After, shared by every worker
    # and process. Only ever moved later (see services.scripe_session).
    hold_until = models.DateTimeField(null=True, blank=True, editable=False)
    deprecation_notice = models.CharField(max_length=200, blank=True, editable=False)
    deprecation_sunset = models.CharField(max_length=20, blank=True, editable=False)
    spend_cap_meta = models.JSONField(default=dict, blank=True, editable=False)
    # Set by the first call that could not reach Scripe (timeout, refused connection), cleared
    # by the next answer.
    unreachable_since = models.DateTimeField(null=True, blank=True, editable=False)
    # The webhook endpoint registered in Scripe for this workspace. `public_id` names the
    # connection in the receiver's URL (never the sequential pk). The secret is encrypted
    # like the key; after a rotation the previous one still verifies until
    # `previous_webhook_secret_until`, so deliveries signed before it are not lost.
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    webhook_endpoint_id = models.CharField(max_length=80, blank=True, editable=False)
    webhook_url = models.URLField(max_length=1024, blank=True, editable=False)
    encrypted_webhook_secret = models.TextField(blank=True, editable=False)
    webhook_secret_hint = models.CharField(max_length=40, blank=True, editable=False)
    webhook_secret_set_at = models.DateTimeField(null=True, blank=True, editable=False)
    encrypted_previous_webhook_secret = models.TextField(blank=True, editable=False)
    previous_webhook_secret_until = models.DateTimeField(null=True, blank=True, editable=False)
    # When Scripe's last verified delivery arrived (a retried one too): whether webhooks are
    # being heard, beside the refusals counted in WebhookRefusal.
    webhook_received_at = models.DateTimeField(null=True, blank=True, editable=False)
    # OAuth instead of a key. `key_state` says whether it works, as for a key (INVALID once
    # Scripe refused a refresh: an admin connects again). Tokens are encrypted like the key
    # and only sent to `oauth_base_url`. A refresh rotates both tokens: the one worker that
    # claims `oauth_refreshing_until` refreshes, and stores the new pair with a conditional
    # UPDATE on `oauth_token_version`, so two workers never spend the same refresh token
    # (Scripe revokes the grant when an old one comes back).
    auth_method = models.CharField(
        max_length=8, choices=AuthMethod.choices, default=AuthMethod.KEY, editable=False
    )
    oauth_app = models.ForeignKey(
        ScripeOAuthApp, models.SET_NULL, null=True, blank=True, editable=False, related_name="+"
    )
    oauth_base_url = models.URLField(max_length=300, blank=True, editable=False)
    encrypted_access_token = models.TextField(blank=True, editable=False)
    access_token_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    encrypted_refresh_token = models.TextField(blank=True, editable=False)
    oauth_token_version = models.PositiveIntegerField(default=0, editable=False)
    oauth_refreshing_until = models.DateTimeField(null=True, blank=True, editable=False)
    oauth_connected_at = models.DateTimeField(null=True, blank=True, editable=False)
    oauth_connected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = "Scripe connection"

    def __str__(self) -> str:
        return f"Scripe for {self.workspace}"

    def __repr__(self) -> str:
        return f"<ScripeConnection workspace={self.workspace_id} key={self.masked_key or '-'}>"

    # Written only by the refresh (conditional UPDATEs) and by the methods that set them.
    TOKEN_FIELDS = frozenset(
        {
            "encrypted_access_token",
            "access_token_expires_at",
            "encrypted_refresh_token",
            "oauth_token_version",
            "oauth_refreshing_until",
        }
    )

    def save(self, *args, **kwargs) -> None:
        """A full save of a row loaded earlier leaves the OAuth tokens alone unless this
        object set them: a worker may have rotated them since, and writing back the old
        refresh token would lose the grant (Scripe revokes it when the old one returns)."""
        if (
            kwargs.get("update_fields") is None
            and not self._state.adding
            and self.pk is not None
            and not getattr(self, "_tokens_changed", False)
        ):
            kwargs["update_fields"] = [
                f.name
                for f in self._meta.concrete_fields
                if not f.primary_key and f.name not in self.TOKEN_FIELDS
            ]
        super().save(*args, **kwargs)
        self._tokens_changed = False

    @property
    def masked_key(self) -> str:
        return self.key_hint

    @property
    def has_key(self) -> bool:
        return bool(self.encrypted_key)

    @property
    def uses_oauth(self) -> bool:
        return self.auth_method == self.AuthMethod.OAUTH

    @property
    def oauth_is_for_base_url(self) -> bool:
        return self.oauth_base_url.rstrip("/") == self.base_url.rstrip("/")

    @sensitive_variables("access", "refresh")
    def set_oauth_tokens(self, *, access: str, refresh: str, expires_at: datetime) -> None:
        """Stores a token pair, encrypted (the caller saves)."""
        self.encrypted_access_token = crypto.encrypt(access)
        self.encrypted_refresh_token = crypto.encrypt(refresh)
        self.access_token_expires_at = expires_at
        self._tokens_changed = True

    def connect_oauth(self, *, app: ScripeOAuthApp, by=None) -> None:
        """Switches the workspace to OAuth (tokens set with `set_oauth_tokens`): the key is
        dropped, since a workspace uses one or the other."""
        if self.has_key or not self.oauth_is_for_base_url:
            self.forget_key()
        self.auth_method = self.AuthMethod.OAUTH
        self.oauth_app = app
        self.oauth_base_url = self.base_url
        self.oauth_token_version += 1
        self.oauth_refreshing_until = None
        self._tokens_changed = True
        self.oauth_connected_at = timezone.now()
        self.oauth_connected_by = by
        self.key_state = self.KeyState.UNVERIFIED
        self.key_error_code = self.key_error_message = ""

    def forget_oauth(self) -> None:
        """Drops the OAuth tokens and goes back to needing a key (state: no key)."""
        was_oauth = self.uses_oauth
        self.auth_method = self.AuthMethod.KEY
        self.oauth_app = None
        self.oauth_base_url = ""
        self.encrypted_access_token = self.encrypted_refresh_token = ""
        self.access_token_expires_at = self.oauth_refreshing_until = None
        self.oauth_connected_at = self.oauth_connected_by = None
        self.oauth_token_version += 1
        self._tokens_changed = True
        if was_oauth:
            self.forget_key()

    @property
    def api_key(self) -> str:
        """The plaintext key, for the client only. Never log or render it."""
        return crypto.decrypt(self.encrypted_key) if self.encrypted_key else ""

    @property
    def rate_limit_summary(self) -> str:
        if self.rate_limit is None:
            return "No call to Scripe yet."
        reset = (
            f", resets {self.rate_limit_reset_at:%H:%M:%S} UTC" if self.rate_limit_reset_at else ""
        )
        seen = f"{self.rate_limit_seen_at:%Y-%m-%d %H:%M:%S} UTC"
        return f"{self.rate_limit_remaining} of {self.rate_limit} left{reset} (seen {seen})."

    @property
    def deprecation_summary(self) -> str:
        if not self.deprecation_notice:
            return "None."
        sunset = f"; sunset {self.deprecation_sunset}" if self.deprecation_sunset else ""
        return f"Scripe deprecates this API version{sunset}: {self.deprecation_notice}"

    @property
    def key_is_for_base_url(self) -> bool:
        """The stored key was entered for the address it would now be sent to."""
        return self.key_base_url.rstrip("/") == self.base_url.rstrip("/")

    @property
    def base_url_refused(self) -> bool:
        """The stored base URL is one the destination rule refuses, as far as the URL itself
        shows (plain http, a private address, localhost; a name is not resolved: this is
        asked while pages render). Nothing is sent there: the client refuses to connect."""
        try:
            destinations.check_url(self.base_url, resolve=False)
        except destinations.DestinationRefused:
            return True
        return False

    @property
    def reachability_summary(self) -> str:
        if self.base_url_refused:
            return f"Nothing is sent to {self.base_url}. {BASE_URL_REFUSED}"
        if self.unreachable_since is None:
            return "Scripe answered the last call (or none was made yet)."
        since = f"{self.unreachable_since:%Y-%m-%d %H:%M} UTC"
        return (
            f"Scripe at {self.base_url} has not answered since {since}; generations wait and retry."
        )

    def note_spend_cap(self, meta: dict) -> None:
        """Scripe answered 402: its daily AI-spend cap for the workspace is reached for the
        UTC day it names (`bucketDate`; today when it names none)."""
        meta = dict(meta or {})
        meta.setdefault("bucketDate", f"{timezone.now().astimezone(UTC):%Y-%m-%d}")
        self.spend_cap_meta = meta
        if self.pk is not None:
            self.save(update_fields=["spend_cap_meta"])

    @property
    def spend_cap_reached_until(self) -> datetime | None:
        """00:00 UTC after the day Scripe said its spend cap was reached, while that day
        lasts; None otherwise. Until then every generation would be refused with a 402."""
        try:
            day = date.fromisoformat(str((self.spend_cap_meta or {}).get("bucketDate")))
        except ValueError:
            return None
        until = datetime.combine(day + timedelta(days=1), time(0), tzinfo=UTC)
        return until if until > timezone.now() else None

    @property
    def blocks_generation(self) -> bool:
        return self.key_state in (self.KeyState.MISSING, self.KeyState.INVALID)

    @property
    def has_webhook(self) -> bool:
        return bool(self.webhook_endpoint_id and self.encrypted_webhook_secret)

    @sensitive_variables("found")
    def webhook_secrets(self, *, now=None) -> list[str]:
        """The secrets a delivery may be signed with: the current one, and the previous one
        while its overlap lasts. Plaintext, for verifying only. Never log or render them."""
        if not self.encrypted_webhook_secret:
            return []
        found = [crypto.decrypt(self.encrypted_webhook_secret)]
        now = now or timezone.now()
        until = self.previous_webhook_secret_until
        if self.encrypted_previous_webhook_secret and until and until > now:
            found.append(crypto.decrypt(self.encrypted_previous_webhook_secret))
        return found

    @sensitive_variables("secret")
    def set_webhook_secret(self, secret: str, *, keep_previous_for: timedelta | None) -> None:
        """Stores a new endpoint secret, encrypted. With `keep_previous_for`, the secret it
        replaces keeps verifying for that long (a rotation); without it, it is forgotten."""
        if keep_previous_for and self.encrypted_webhook_secret:
            self.encrypted_previous_webhook_secret = self.encrypted_webhook_secret
            self.previous_webhook_secret_until = timezone.now() + keep_previous_for
        else:
            self.encrypted_previous_webhook_secret = ""
            self.previous_webhook_secret_until = None
        self.encrypted_webhook_secret = crypto.encrypt(secret)
        self.webhook_secret_hint = f"{secret[:6]}…{secret[-4:]}" if len(secret) > 12 else "…"
        self.webhook_secret_set_at = timezone.now()

    def set_key(self, plaintext: str, *, by=None) -> None:
        plaintext = plaintext.strip()
        validate_key_format(plaintext)
        if self.uses_oauth:
            self.forget_oauth()
        mode = KEY_FORMAT.match(plaintext).group(1)
        self.encrypted_key = crypto.encrypt(plaintext)
        self.key_hint = f"scripe_sk_{mode}_…{plaintext[-4:]}"
        self.key_mode = mode
        self.key_set_at = timezone.now()
        self.key_set_by = by
        if not self.key_is_for_base_url:
            self.forget_address()
        self.key_base_url = self.base_url
        self.key_state = self.KeyState.UNVERIFIED
        self.key_error_code = self.key_error_message = ""
        self.verified_at = None

    def forget_address(self) -> None:
        """Drops what the Scripe at the previous base URL told us: whether it answered, its
        rate limit and any hold it asked for, and its deprecation notice. An outage or a
        nearly spent rate limit of the old address says nothing of a new one, and would
        otherwise show (and pace calls) until the new address first answers."""
        self.unreachable_since = self.hold_until = None
        self.rate_limit = self.rate_limit_remaining = None
        self.rate_limit_reset_at = self.rate_limit_seen_at = None
        self.deprecation_notice = self.deprecation_sunset = ""

    def forget_key(self) -> None:
        """Drops the key and everything learnt by using it: who it belongs to, and whether
        its Scripe answered (state: no key)."""
        self.encrypted_key = self.key_hint = self.key_mode = self.key_base_url = ""
        self.key_set_at = self.key_set_by = self.verified_at = self.unreachable_since = None
        self.key_state = self.KeyState.MISSING
        self.key_error_code = self.key_error_message = ""
        self.scripe_workspace_id = self.scripe_workspace_name = self.plan = ""
        self.scopes = []

    def note_unreachable(self) -> None:
        """Records that a call could not reach Scripe. Only the first failure sets the time,
        with a conditional UPDATE, so the outage is dated from when it began."""
        if self.pk is None:
            return
        now = timezone.now()
        first = ScripeConnection.objects.filter(pk=self.pk, unreachable_since__isnull=True)
        if first.update(unreachable_since=now):
            self.unreachable_since = now
        elif self.unreachable_since is None:
            self.refresh_from_db(fields=["unreachable_since"])

    def hold(self, *, seconds: float) -> None:
        """Holds every call of this workspace for `seconds` (a 429's Retry-After). Only ever
        moves the hold later, so an older, shorter answer cannot release it early."""
        until = timezone.now() + timedelta(seconds=seconds)
        later = models.Q(hold_until__isnull=True) | models.Q(hold_until__lt=until)
        if ScripeConnection.objects.filter(pk=self.pk).filter(later).update(hold_until=until):
            self.hold_until = until

    def note_webhook_received(self) -> None:
        """A verified delivery arrived. Only ever moves the time later (conditional UPDATE),
        so of two deliveries answered at once the later time stays."""
        now = timezone.now()
        later = models.Q(webhook_received_at__isnull=True) | models.Q(webhook_received_at__lt=now)
        if (
            ScripeConnection.objects.filter(pk=self.pk)
            .filter(later)
            .update(webhook_received_at=now)
        ):
            self.webhook_received_at = now

    def note_answered(self) -> None:
        """Scripe answered: the outage, if one was recorded, is over."""
        if self.pk is None or self.unreachable_since is None:
            return
        ScripeConnection.objects.filter(pk=self.pk).update(unreachable_since=None)
        self.unreachable_since = None

    def mark_valid(self, *, workspace_id: str, name: str | None, plan: str, scopes) -> None:
        self.key_state = self.KeyState.VALID
        self.key_error_code = self.key_error_message = ""
        self.verified_at = timezone.now()
        self.scripe_workspace_id = workspace_id
        self.scripe_workspace_name = name or ""
        self.plan = plan
        self.scopes = list(scopes)
        self.save()

    @property
    def key_problem(self) -> Said:
        """What is wrong with the key, as `mark_invalid` was told it ("" when nothing is)."""
        return Said.restored(self.key_error_message, self.key_error_params)

    def mark_invalid(self, *, code: str, message: str) -> None:
        """Records that Scripe refuses the key. When it was not already known to be invalid,
        `signals.key_refused` tells the host project, once: of two workers refused at the
        same moment, the conditional UPDATE lets only one see the change."""
        changed = ScripeConnection.objects.filter(pk=self.pk).exclude(
            key_state=self.KeyState.INVALID
        )
        newly = bool(changed.update(key_state=self.KeyState.INVALID))
        self.key_state = self.KeyState.INVALID
        self.key_error_code = code
        self.key_error_message, self.key_error_params = stored(message, 500)
        self.verified_at = timezone.now()
        self.save(
            update_fields=[
                "key_state", "key_error_code", "key_error_message", "key_error_params",
                "verified_at",
            ]
        )  # fmt: skip
        if newly:
            # Robust: a receiver's failure is logged and never hides Scripe's refusal.
            answers = signals.key_refused.send_robust(
                sender=ScripeConnection, connection=self, code=code, message=self.key_problem
            )
            for receiver, answer in answers:
                if isinstance(answer, Exception):
                    logger.error("key_refused receiver %r failed: %r", receiver, answer)


class WebhookDelivery(models.Model):
    """One event Scripe delivered to the connection's endpoint, stored once per event id:
    Scripe retries a delivery (same id) until it gets a 2xx, and may send it again later, so
    the id is what makes receiving idempotent. The verified body is kept for the task that
    applies it; `processed_at` says it was applied (and `outcome` what that did)."""

    connection = models.ForeignKey(
        ScripeConnection, models.CASCADE, related_name="webhook_deliveries"
    )
    event_id = models.CharField(max_length=100)
    type = models.CharField(max_length=40)
    object_id = models.CharField(max_length=80, blank=True)
    body = models.TextField()
    received_at = models.DateTimeField(default=timezone.now)
    processed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=300, blank=True)

    class Meta:
        verbose_name_plural = "webhook deliveries"
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "event_id"], name="one_delivery_per_event"
            )
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"

    def mark_processed(self, outcome: str) -> bool:
        """Records that the event was applied; False when another task did it first."""
        now = timezone.now()
        done = WebhookDelivery.objects.filter(pk=self.pk, processed_at__isnull=True).update(
            processed_at=now, outcome=outcome[:300]
        )
        if done:
            self.processed_at, self.outcome = now, outcome[:300]
        return bool(done)


class WebhookRefusal(models.Model):
    """Deliveries to a connection's endpoint that were refused, counted per reason and hour:
    what the admin's webhook panel reports. A counter, not a row per delivery, so a flood of
    forged requests costs one UPDATE each and at most one row per reason and hour (old hours
    are forgotten by the sweep). A request for an endpoint nobody has is only logged."""

    class Reason(models.TextChoices):
        # The words the admin reads; the values are the receiver's error codes.
        MISSING_HEADER = "missing_header", "no signature"
        MALFORMED_HEADER = "malformed_header", "unreadable signature"
        BAD_SIGNATURE = "bad_signature", "bad signature"
        TOO_OLD = "too_old", "too old"
        MALFORMED_EVENT = "malformed_event", "unreadable body"
        UNKNOWN_ENDPOINT = "unknown_endpoint", "unknown endpoint"
        SECRET_NOT_DECRYPTABLE = "secret_not_decryptable", "secret not decryptable here"
        NO_SECRET = "no_secret", "no secret to check with"

    connection = models.ForeignKey(
        ScripeConnection, models.CASCADE, related_name="webhook_refusals"
    )
    hour = models.DateTimeField()
    reason = models.CharField(max_length=40, choices=Reason.choices)
    count = models.PositiveIntegerField(default=0)
    last_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "hour", "reason"], name="one_refusal_count_per_hour"
            )
        ]

    def __str__(self) -> str:
        return f"{self.count} x {self.reason} at {self.hour:%Y-%m-%d %H}h"
