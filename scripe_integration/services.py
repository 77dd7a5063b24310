"""What the rest of the app may ask of Scripe. Views and the calendar call these, never the
client directly, so that every call records what Scripe said about limits and deprecations,
and whether Scripe could be reached at all. A workspace reaches Scripe with its API key or,
once an admin connected it with Scripe, with OAuth tokens (`oauth_*` below)."""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_noop
from django.views.decorators.debug import sensitive_variables

from scripe_integration import crypto, metrics, pacing
from scripe_integration.client import ScripeClient, ScripeOAuthClient
from scripe_integration.contract import OAUTH_SCOPES, UNSET, OAuthServer, Project, ScripeError
from scripe_integration.destinations import (
    DestinationRefused,
    NameNotFound,
    check_url,
    local_hosts_allowed,
)
from scripe_integration.models import (
    ScripeConnection,
    ScripeOAuthApp,
    WebhookDelivery,
    WebhookRefusal,
)
from scripe_integration.sentences import Said
from scripe_integration.webhooks import WebhookVerificationError, parse_event, verify_webhook

# Scripe's own words for why a key does not work, for the admin and the banner.
KEY_ERRORS = {
    "invalid_token": gettext_noop(
        "Scripe does not recognise this key. Check it was copied whole, and that "
        "a live key is not used against a test workspace or the other way round."
    ),
    "key_revoked": gettext_noop(
        "This key was revoked in Scripe. Mint a new one under Settings → Developer."
    ),
    "key_expired": gettext_noop("This key has expired. Extend it or mint a new one in Scripe."),
    "plan_not_eligible": gettext_noop(
        "The Scripe workspace's plan has no API access (Advanced or Business "
        "is needed), or its subscription is not active."
    ),
    # Said when Scripe does not name the scope; `credential_problem` names it when it does.
    "scope_missing": gettext_noop(
        "The key lacks a permission the calendar needs. Mint a key with every permission in Scripe."
    ),
    "oauth_grant_lost": gettext_noop(
        "Scripe no longer accepts this workspace's connection (the app was "
        "disconnected in Scripe, or a token refresh was refused). An admin presses “Connect with "
        "Scripe” on the workspace's admin page to connect again."
    ),
    "workspace_mismatch": gettext_noop(
        "The Scripe user who connected this workspace no longer belongs to "
        "its Scripe workspace. An admin presses “Connect with Scripe” again, signed in to Scripe "
        "as a member of it."
    ),
}
# The same refusals, said of an OAuth connection rather than a key.
OAUTH_ERRORS = {
    "invalid_token": KEY_ERRORS["oauth_grant_lost"],
    "key_revoked": KEY_ERRORS["oauth_grant_lost"],
    "key_expired": KEY_ERRORS["oauth_grant_lost"],
    "scope_missing": gettext_noop(
        "The connection lacks a permission the calendar needs. An admin presses "
        "“Connect with Scripe” again and approves them all."
    ),
}


# Failures that never reached Scripe: nothing answered.
UNREACHABLE_CODES = frozenset({"timeout", "connection_error", "connection_lost"})
# What an admin is told whenever the base URL did not lead to Scripe: no answer, a refused,
# broken or timed-out connection, a TLS or DNS failure, an address the destination rule
# refuses, or something other than Scripe answering. One sentence for all of them, so that
# pressing Verify cannot tell which hosts and ports the server reaches.
UNREACHABLE_AT_ADDRESS = (
    "Scripe could not be reached at this address. Check that the base URL is Scripe's API "
    "root, such as https://api.scripe.io/v1, and try again in a minute."
)


class ScripeNotConfigured(Exception):
    """The workspace has no usable Scripe key."""

    def __init__(self, said: Said) -> None:
        super().__init__(said)
        self.said = said  # to be shown in the reader's language, or stored (sentences.py)


def connection_for(workspace) -> ScripeConnection:
    """The workspace's connection; an unsaved one (no key) when it has none yet, so asking
    never writes a row. Whoever sets a key saves it."""
    connection = ScripeConnection.objects.filter(workspace=workspace).first()
    return connection or ScripeConnection(workspace=workspace)


HELD = "held"  # the code of the error a call gets when the workspace's rate limit holds it


@contextmanager
def scripe_session(connection: ScripeConnection) -> Iterator[ScripeClient]:
    """A client for the workspace's key that keeps the workspace's books on every call:

    - right before each call it asks the connection's shared rate-limit state (what Scripe's
      headers and a 429's Retry-After said, whoever received them) and raises a retryable
      ScripeError with code `held` and the seconds to wait instead of sending inside a hold;
    - after each answer it stores the rate-limit headers, unless a newer answer already did;
    - a 429 holds every caller of the workspace for its Retry-After;
    - a refused key is marked invalid, and an unreachable Scripe (or its return) recorded.

    The key is only sent to the base URL it was entered for; after the base URL changed, the
    workspace has no usable key until an admin enters one for the new address. The same
    holds for OAuth tokens: with them, the client asks `_oauth_access_token` for the token
    before each call (refreshing an expired one) and names the Scripe workspace the
    connection is for in `Scripe-Workspace-Id`, since a token reaches all of the user's."""
    if connection.uses_oauth:
        if not connection.oauth_is_for_base_url:
            raise ScripeNotConfigured(
                Said(
                    gettext_noop(
                        "The Scripe base URL is now %(base_url)s, but the workspace was "
                        "connected with Scripe at %(then)s; an admin connects again."
                    ),
                    base_url=connection.base_url,
                    then=connection.oauth_base_url,
                )
            )
        if not connection.encrypted_refresh_token:
            raise ScripeNotConfigured(
                Said(
                    gettext_noop(
                        "Scripe no longer accepts this workspace's connection; an admin presses "
                        "“Connect with Scripe” on the workspace's admin page."
                    )
                )
            )
        credentials = {
            "api_key": "",
            "access_token": lambda: _oauth_access_token(connection),
            "renew_access_token": lambda: _oauth_access_token(connection, renew=True),
            "workspace_id": connection.scripe_workspace_id or None,
        }
    elif not connection.has_key:
        raise ScripeNotConfigured(
            Said(
                gettext_noop(
                    "This workspace has no Scripe API key yet; an admin adds it in the admin."
                )
            )
        )
    elif not connection.key_is_for_base_url:
        raise ScripeNotConfigured(
            Said(
                gettext_noop(
                    "The Scripe base URL is now %(base_url)s, but the key was entered for "
                    "%(then)s; an admin must enter the key again for the new address."
                ),
                base_url=connection.base_url,
                then=connection.key_base_url,
            )
        )
    else:
        credentials = {"api_key": connection.api_key}
    client = ScripeClient(
        connection.base_url,
        **credentials,
        read_timeout=settings.SCRIPE_READ_TIMEOUT,
        # The client checks every address it connects to (destinations); a base URL the rule
        # refuses fails like an unreachable Scripe, before anything is sent.
        allow_local_hosts=local_hosts_allowed(),
        before_send=lambda: _wait_your_turn(connection),
        after_response=lambda answered: _note_answer(connection, answered),
        on_error=lambda error: _note_error(connection, error),
    )
    try:
        yield client
    finally:
        client.close()
        _record_deprecation(connection, client)


def _wait_your_turn(connection: ScripeConnection) -> None:
    """Takes one call from the workspace's rate limit, or raises `held`. Conditional UPDATEs
    on the shared row, so two processes never both take the last call of a window."""
    if connection.pk is None:
        return
    now = timezone.now()
    free = ScripeConnection.objects.filter(pk=connection.pk).filter(
        Q(hold_until__isnull=True) | Q(hold_until__lte=now)
    )
    # Taking a call stamps the state with now, so an answer to a request sent earlier (and
    # counted by Scripe before this one) cannot give the call back (`_note_answer`).
    if free.filter(rate_limit_remaining__gt=0).update(
        rate_limit_remaining=F("rate_limit_remaining") - 1, rate_limit_seen_at=now
    ):
        return
    if free.filter(rate_limit_remaining__isnull=True).exists():
        return
    # The window was used up and its reset time has passed, but no answer has said how much
    # is free again: let one call through per even share of the limit, not every waiter at
    # once, until an answer brings fresh headers.
    row = ScripeConnection.objects.filter(pk=connection.pk).values("rate_limit").first()
    step = timedelta(seconds=pacing.spacing(row and row["rate_limit"]) or 1.0)
    if (
        free.filter(rate_limit_remaining=0)
        .filter(Q(rate_limit_reset_at__isnull=True) | Q(rate_limit_reset_at__lte=now))
        .update(rate_limit_reset_at=now + step)
    ):
        return
    state = ScripeConnection.objects.filter(pk=connection.pk).values(
        "hold_until", "rate_limit_remaining", "rate_limit_reset_at"
    )[0]
    wait = pacing.seconds_on_hold(
        hold_until=state["hold_until"],
        remaining=state["rate_limit_remaining"],
        reset_at=state["rate_limit_reset_at"],
        now=now,
    )
    metrics.held_observe(seconds=wait)
    raise ScripeError(
        code=HELD,
        message="Waiting for Scripe's rate limit for this workspace.",
        retryable=True,
        retry_after=max(wait, 0.05),
    )


def _note_answer(connection: ScripeConnection, client: ScripeClient) -> None:
    """Stores the rate-limit headers of an answer unless the state is newer than its request
    (a later request's answer, or a call taken since)."""
    if connection.pk is None:
        return
    if client.last_status is not None and client.last_status < 500:
        # Scripe itself answered, if only to say no. A 5xx may come from a gateway in front
        # of an unreachable Scripe, so it neither starts nor ends an outage.
        connection.note_answered()
    seen = client.last_rate_limit
    if seen is None or seen.seen_at is None:
        return
    # Answers are ordered by when their request was sent: one that arrives late may have
    # been computed before calls taken since.
    sent = seen.sent_at or seen.seen_at
    values = {
        "rate_limit": seen.limit,
        "rate_limit_remaining": seen.remaining,
        "rate_limit_seen_at": sent,
        "rate_limit_reset_at": seen.reset_at,
    }
    newer = Q(rate_limit_seen_at__isnull=True) | Q(rate_limit_seen_at__lte=sent)
    if ScripeConnection.objects.filter(pk=connection.pk).filter(newer).update(**values):
        for name, value in values.items():
            setattr(connection, name, value)


# Scopes the calendar can do without: a key lacking one still writes posts.
OPTIONAL_SCOPES = frozenset({"webhooks:manage"})


def credential_problem(connection: ScripeConnection, error: ScripeError) -> str:
    """What to tell admins when Scripe refuses the workspace's key or OAuth tokens with
    `error`; "" when it says nothing about them. A missing permission is named as Scripe
    named it (`details.required`), not guessed."""
    oauth = connection.uses_oauth
    if error.code == "scope_missing" and (missing := _missing_scopes(error)):
        if oauth:
            return Said(
                gettext_noop(
                    "The connection lacks the %(scopes)s permission. An admin presses “Connect "
                    "with Scripe” again and approves it."
                ),
                scopes=missing,
            )
        return Said(
            gettext_noop("The key lacks the %(scopes)s permission. Mint a key with it in Scripe."),
            scopes=missing,
        )
    if oauth and error.code in OAUTH_ERRORS:
        return Said(OAUTH_ERRORS[error.code])
    return Said(KEY_ERRORS.get(error.code, ""))


def _missing_scopes(error: ScripeError) -> str:
    """The scopes a `scope_missing` refusal asks for, any one of which suffices (contract
    §2.2): "sources:write", "sources:write or knowledge:write"; "" when it names none."""
    required = error.details.get("required") if isinstance(error.details, dict) else None
    if not isinstance(required, list):
        return ""
    return " or ".join(str(scope) for scope in required if isinstance(scope, str) and scope)


def _note_error(connection: ScripeConnection, error: ScripeError) -> None:
    problem = credential_problem(connection, error)
    if problem and not _lacks_only_optional_scopes(error):
        connection.mark_invalid(code=error.code, message=problem)
    if error.code in UNREACHABLE_CODES:
        connection.note_unreachable()
    if error.code == "rate_limited" and connection.pk is not None:
        wait = error.retry_after if error.retry_after is not None else pacing.BACKOFF_BASE
        connection.hold(seconds=wait)


def _lacks_only_optional_scopes(error: ScripeError) -> bool:
    required = error.details.get("required") if error.code == "scope_missing" else None
    return bool(required) and isinstance(required, list) and set(required) <= OPTIONAL_SCOPES


def _record_deprecation(connection: ScripeConnection, client: ScripeClient) -> None:
    if client.last_deprecation is None or connection.pk is None:
        return
    connection.deprecation_notice = client.last_deprecation.raw[:200]
    connection.deprecation_sunset = client.last_deprecation.sunset or ""
    connection.save(update_fields=["deprecation_notice", "deprecation_sunset"])


def answered_by_scripe(error: ScripeError) -> bool:
    """Scripe itself refused, in its error envelope (or the workspace's own rate-limit hold
    stopped the call). False for every failure that says only that Scripe was not found at
    the address, which all read the same to people (UNREACHABLE_AT_ADDRESS)."""
    return not (
        error.code in UNREACHABLE_CODES
        or error.code == "invalid_response"
        or error.code.startswith("http_")  # an answer without Scripe's envelope
    )


def describe_error(error: ScripeError) -> Said:
    """A sentence a person can act on, for any Scripe failure: `.shown()` in the reader's
    language, kept in English with its values apart when a task stores it (sentences.py)."""
    if error.code == "scope_missing" and (missing := _missing_scopes(error)):
        return Said(
            gettext_noop(
                "The workspace's Scripe access lacks the %(scopes)s permission; an admin gives "
                "it (a key with it, or “Connect with Scripe” again)."
            ),
            scopes=missing,
        )
    if error.code in KEY_ERRORS:
        return Said(KEY_ERRORS[error.code])
    if not answered_by_scripe(error):
        return Said(gettext_noop("Scripe could not be reached. Try again in a minute."))
    if error.code == "rate_limited":
        if error.retry_after:
            return Said(
                gettext_noop("Scripe is rate-limiting this workspace; try again in %(seconds)s s."),
                seconds=int(error.retry_after),
            )
        return Said(gettext_noop("Scripe is rate-limiting this workspace; try again shortly."))
    if error.retryable:
        return Said(gettext_noop("Scripe had a temporary problem. Try again in a minute."))
    return Said(error.message)  # Scripe's own words, as Scripe wrote them


def projects_fetch(*, workspace) -> list[Project]:
    """Every project Scripe lists for the workspace's key. Raises ScripeError or
    ScripeNotConfigured; a key error marks the key invalid."""
    with scripe_session(connection_for(workspace)) as scripe:
        return scripe.list_projects()


def key_verify(*, workspace) -> tuple[bool, str]:
    """Asks Scripe who the workspace's key belongs to (GET /v1/workspaces/me) and records the
    answer on the connection. Returns (works, what to tell the admin)."""
    connection = connection_for(workspace)
    try:
        with scripe_session(connection) as scripe:
            found = _workspace_me(scripe)
    except ScripeNotConfigured as error:
        return False, str(error)
    except ScripeError as error:
        if problem := credential_problem(connection, error):
            return False, problem
        # Network trouble, a Scripe outage or an unreadable answer says nothing about the
        # key: leave its state.
        if not answered_by_scripe(error):
            return False, f"Could not verify the key: {UNREACHABLE_AT_ADDRESS}"
        return False, f"Could not verify the key: {describe_error(error)}"
    connection.mark_valid(
        workspace_id=found.id, name=found.name, plan=found.plan, scopes=found.scopes
    )
    scopes = ", ".join(found.scopes) or "none"
    name = found.name or found.id
    what = "The connection with Scripe works" if connection.uses_oauth else "The key works"
    return True, f"{what}: Scripe workspace {name}, {found.plan} plan, scopes {scopes}."


def _workspace_me(scripe: ScripeClient):
    """GET /v1/workspaces/me. The client turns an answer of the wrong shape into an
    `invalid_response`; one that names no workspace is one too, not a false "the key works",
    since verifying is how an admin finds out that the base URL is not Scripe's API."""
    found = scripe.workspace_me()
    if not found.id:
        raise ScripeError(
            code="invalid_response",
            message="Scripe answered without naming the key's workspace.",
            http_status=200,
        )
    return found


# webhooks ----------------------------------------------------------------------------------------

# What the calendar subscribes to (of the contract's `contract.WEBHOOK_EVENTS`): post changes made
# in Scripe, jobs that finished, and knowledge-base documents indexed.
POST_EVENTS = ("post.updated", "post.scheduled", "post.unscheduled")
JOB_EVENTS = ("job.completed", "job.failed")
KNOWLEDGE_EVENTS = ("knowledge.indexed",)
SUBSCRIBED_EVENTS = (*POST_EVENTS, *JOB_EVENTS, *KNOWLEDGE_EVENTS)
# The host project routes its receiver under this URL name, with a `public_id` argument (the
# connection's), the way Django's auth expects a URL named "login".
RECEIVER_URL_NAME = "scripe_webhook"
POLLING_FLOOR = "Polling alone shows changes made in Scripe within 2 minutes."


class WebhooksOff(Exception):
    """The app has no address Scripe could deliver to."""


class WebhookRefused(Exception):
    """A delivery that is not proven to come from the endpoint's Scripe, or not for a known
    endpoint. `status` is the HTTP answer; `reason` a word for the log (never a secret)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def webhooks_off_reason(*, resolve: bool = False) -> str:
    """Why webhooks cannot be registered now ("" when they can): they need PUBLIC_BASE_URL,
    allowed by the destination rule (https on the public internet, or anything when
    SCRIPE_ALLOW_LOCAL_HOSTS is on, for the sandbox). Pages ask without `resolve`, so
    showing one never waits for DNS; registering asks with it."""
    base = settings.PUBLIC_BASE_URL
    if not base:
        return (
            "Webhooks are off: PUBLIC_BASE_URL is not set, so Scripe has no address to "
            f"deliver to. {POLLING_FLOOR}"
        )
    try:
        check_url(base, resolve=resolve)
    except NameNotFound as unknown:
        return f"Webhooks are off: PUBLIC_BASE_URL: {unknown}. {POLLING_FLOOR}"
    except DestinationRefused:
        return (
            f"Webhooks are off: PUBLIC_BASE_URL ({base}) is not an https address on the "
            "public internet (a local or private one needs SCRIPE_ALLOW_LOCAL_HOSTS). "
            f"{POLLING_FLOOR}"
        )
    return ""


def webhook_receiver_url(connection: ScripeConnection) -> str:
    """The address Scripe delivers this workspace's events to; raises WebhooksOff."""
    reason = webhooks_off_reason(resolve=True)
    if reason:
        raise WebhooksOff(reason)
    path = reverse(RECEIVER_URL_NAME, kwargs={"public_id": connection.public_id})
    return settings.PUBLIC_BASE_URL + path


def _overlap() -> timedelta:
    return timedelta(seconds=settings.SCRIPE_WEBHOOK_SECRET_OVERLAP_SECONDS)


def webhook_register(*, workspace) -> tuple[bool, str]:
    """Registers (or points again, and re-activates) the workspace's webhook endpoint in
    Scripe for SUBSCRIBED_EVENTS at the receiver's URL, and stores the secret Scripe mints,
    encrypted. Returns (registered, what to tell the admin)."""
    connection = connection_for(workspace)
    try:
        url = webhook_receiver_url(connection)
        with scripe_session(connection) as scripe:
            endpoint = None
            if connection.webhook_endpoint_id:
                try:
                    endpoint = scripe.update_webhook_endpoint(
                        connection.webhook_endpoint_id,
                        url=url,
                        events=list(SUBSCRIBED_EVENTS),
                        is_active=True,
                    )
                except ScripeError as error:
                    if error.code != "not_found":
                        raise
                    key = uuid.uuid4().hex  # that endpoint is gone: a new one, not a replay
            else:
                # A retry after a lost answer replays the same endpoint (and its secret)
                # rather than leaving an orphan that signs with a secret nobody knows.
                digest = hashlib.sha256(url.encode()).hexdigest()[:16]
                key = f"whe-{connection.public_id.hex}-{digest}"
            if endpoint is None:
                endpoint = scripe.create_webhook_endpoint(
                    name=settings.PRODUCT_NAME[:128] or "Scripe Calendar",
                    url=url,
                    events=list(SUBSCRIBED_EVENTS),
                    idempotency_key=key,
                )
    except (WebhooksOff, ScripeNotConfigured) as error:
        return False, str(error)
    except ScripeError as error:
        return False, f"Could not register the webhook endpoint: {_webhook_error(error)}"
    if endpoint.secret:
        connection.set_webhook_secret(endpoint.secret, keep_previous_for=None)
    connection.webhook_endpoint_id = endpoint.id
    connection.webhook_url = endpoint.url or url
    connection.save(update_fields=WEBHOOK_FIELDS)
    state = (
        "" if endpoint.is_active else f" but Scripe has it inactive ({endpoint.disabled_reason})"
    )
    return True, (
        f"Webhooks registered{state}: Scripe sends {', '.join(SUBSCRIBED_EVENTS)} to {url} "
        f"(endpoint {endpoint.id}, secret {connection.webhook_secret_hint})."
    )


def webhook_rotate(*, workspace) -> tuple[bool, str]:
    """Has Scripe mint a new secret for the workspace's endpoint and stores it, encrypted;
    the previous one still verifies for SCRIPE_WEBHOOK_SECRET_OVERLAP_SECONDS, so deliveries
    signed before the rotation are not refused. Returns (rotated, what to tell the admin)."""
    connection = connection_for(workspace)
    if not connection.webhook_endpoint_id:
        return False, "No webhook endpoint is registered yet; register it first."
    try:
        with scripe_session(connection) as scripe:
            endpoint = scripe.rotate_webhook_secret(connection.webhook_endpoint_id)
    except ScripeNotConfigured as error:
        return False, str(error)
    except ScripeError as error:
        # Rotation is not idempotent: when the answer was lost, Scripe may sign with a secret
        # we never saw, and deliveries are refused until the next rotation.
        return False, (
            f"Could not rotate the webhook secret: {_webhook_error(error)} If Scripe rotated "
            f"it anyway, rotate again. {POLLING_FLOOR}"
        )
    if not endpoint.secret:
        return False, "Scripe answered the rotation without a new secret; rotate again."
    connection.set_webhook_secret(endpoint.secret, keep_previous_for=_overlap())
    connection.save(update_fields=WEBHOOK_FIELDS)
    until = f"{connection.previous_webhook_secret_until:%H:%M} UTC"
    return True, (
        f"Webhook secret rotated: now {connection.webhook_secret_hint}; the previous one "
        f"still verifies until {until}."
    )


WEBHOOK_FIELDS = [
    "webhook_endpoint_id",
    "webhook_url",
    "encrypted_webhook_secret",
    "webhook_secret_hint",
    "webhook_secret_set_at",
    "encrypted_previous_webhook_secret",
    "previous_webhook_secret_until",
]


def _webhook_error(error: ScripeError) -> str:
    if error.code == "scope_missing":
        return (
            "the key lacks the webhooks:manage permission. Mint a key with it in Scripe, or "
            "leave webhooks off."
        )
    if error.code in ("ssrf_blocked", "invalid_request", "unprocessable"):
        return f"Scripe refused the address ({error.message})"
    if not answered_by_scripe(error):
        return UNREACHABLE_AT_ADDRESS
    return describe_error(error)


@sensitive_variables("secrets")
def webhook_accept(
    *, public_id, body: bytes, header: str | None, now: float | None = None
) -> tuple[WebhookDelivery, bool]:
    """Verifies a delivery's signature with the endpoint's secrets (the current one, and the
    previous one during a rotation's overlap) and a timestamp tolerance, and stores its
    event once per event id. Returns (delivery, whether it is new: False for a replay).
    Raises WebhookRefused; nothing is stored then but a count of the refusal, by reason, for
    the connection it was addressed to (when one has that address)."""
    connection = ScripeConnection.objects.filter(public_id=public_id).first()
    if connection is None:
        raise WebhookRefused(404, "unknown_endpoint")
    try:
        delivery, created = _webhook_store(connection, body, header, now)
    except WebhookRefused as refusal:
        webhook_refusal_count(connection, refusal.reason)
        raise
    connection.note_webhook_received()
    return delivery, created


@sensitive_variables("secrets")
def _webhook_store(
    connection: ScripeConnection, body: bytes, header: str | None, now: float | None
) -> tuple[WebhookDelivery, bool]:
    if not connection.encrypted_webhook_secret:
        raise WebhookRefused(404, "unknown_endpoint")
    try:
        secrets = connection.webhook_secrets()
    except crypto.DecryptionError:
        # Our configuration, not the sender: a 5xx, so Scripe retries once it is fixed.
        raise WebhookRefused(503, "secret_not_decryptable") from None
    try:
        verify_webhook(
            secrets,
            body,
            header,
            tolerance=settings.SCRIPE_WEBHOOK_TOLERANCE_SECONDS,
            now=now,
        )
    except WebhookVerificationError as error:
        status = 400 if error.reason in ("missing_header", "malformed_header") else 401
        raise WebhookRefused(status, error.reason) from None
    try:
        text = body.decode("utf-8")
        event = parse_event(body)
    except ValueError:  # UnicodeDecodeError included
        raise WebhookRefused(400, "malformed_event") from None
    object_id = event.object.get("id")
    return WebhookDelivery.objects.get_or_create(
        connection=connection,
        event_id=event.id[:100],
        defaults={
            "type": event.type[:40],
            "object_id": object_id[:80] if isinstance(object_id, str) else "",
            "body": text,
        },
    )


def webhook_refusal_count(connection: ScripeConnection, reason: str) -> None:
    """Counts one refused delivery in its hour: one UPDATE, or the hour's first row (of two
    first refusals at once, the loser of the INSERT counts with the UPDATE)."""
    now = timezone.now()
    hour = now.replace(minute=0, second=0, microsecond=0)
    rows = WebhookRefusal.objects.filter(connection=connection, hour=hour, reason=reason)
    if rows.update(count=F("count") + 1, last_at=now):
        return
    try:
        with transaction.atomic():
            WebhookRefusal.objects.create(
                connection=connection, hour=hour, reason=reason, count=1, last_at=now
            )
    except IntegrityError:
        rows.update(count=F("count") + 1, last_at=now)


# Webhooks count as heard while a verified delivery arrived this recently and none was
# refused since. Scripe sends only when something changes, so a quiet workspace falls back
# to the polling floor after a while; that costs little, trusting a silent endpoint could.
WEBHOOKS_HEARD_FOR = timedelta(hours=1)
# Refusals are counted per hour and reported for the last day.
WEBHOOK_REFUSALS_REPORTED = timedelta(days=1)
WEBHOOK_REFUSALS_KEPT = timedelta(days=2)


# What an admin can do about a kind of refusal, when it is Scripe's delivery that was refused.
REFUSAL_ADVICE = {
    "bad_signature": "Bad signatures: if they are Scripe's, the secret stored here is not the "
    "endpoint's; rotate the secret.",
    "too_old": "Too old: check that this server's clock is right.",
    "unknown_endpoint": "Unknown endpoint: Scripe delivers to an address not registered here; "
    "register webhooks again.",
    "secret_not_decryptable": "The stored secret cannot be decrypted: check "
    "SCRIPE_KEY_ENCRYPTION_KEYS, then rotate the secret.",
    "malformed_event": "Unreadable body: signed by Scripe but not an event the receiver can "
    "read; the log has each one.",
}


@dataclass(frozen=True)
class WebhookHealth:
    """What the webhook panel says, and what the sync trusts: whether Scripe's deliveries
    are arriving and being accepted."""

    received_at: datetime | None
    refused: int  # in the last day
    refused_by_reason: tuple[tuple[str, int, str], ...]  # (words, count, advice), most first
    last_refused_at: datetime | None
    heard: bool

    def sentence(self) -> str:
        """When the last delivery arrived, what was refused in the last day and why, and
        whether the calendar counts on them."""
        if self.received_at is None:
            arrived = "No delivery has arrived yet."
        else:
            arrived = f"The last delivery arrived {self.received_at:%Y-%m-%d %H:%M} UTC."
        if self.heard:
            verdict = "Webhooks are being heard."
        elif self.refused and (self.received_at is None or self.last_refused_at > self.received_at):
            verdict = (
                "Deliveries are being refused, so the calendar does not count on them. "
                f"{POLLING_FLOOR}"
            )
        elif self.received_at is None:
            verdict = f"Until one arrives the calendar does not count on them. {POLLING_FLOOR}"
        else:
            verdict = (
                f"None arrived recently, so the calendar does not count on them. {POLLING_FLOOR}"
            )
        return f"{arrived} {self.refusals_sentence()} {verdict}"

    def refusals_sentence(self) -> str:
        """How many were refused in the last day, by reason, and what would mend each."""
        if not self.refused:
            return "None was refused in the last day."
        reasons = ", ".join(f"{words}: {count}" for words, count, _ in self.refused_by_reason)
        noun = "delivery was" if self.refused == 1 else "deliveries were"
        advice = "".join(f" {a}" for _, _, a in self.refused_by_reason if a)
        return (
            f"{self.refused} {noun} refused in the last day ({reasons}), the last at "
            f"{self.last_refused_at:%Y-%m-%d %H:%M} UTC.{advice}"
        )


def webhook_health(connection: ScripeConnection, *, now: datetime | None = None) -> WebhookHealth:
    """Whether the connection's webhooks are heard: registered, a verified delivery arrived
    within WEBHOOKS_HEARD_FOR, and none was refused since. One small query."""
    now = now or timezone.now()
    counts: dict[str, int] = {}
    last_refused_at = None
    if connection.pk is not None:
        recent = WebhookRefusal.objects.filter(
            connection=connection, hour__gt=now - WEBHOOK_REFUSALS_REPORTED
        )
        for reason, count, last_at in recent.values_list("reason", "count", "last_at"):
            counts[reason] = counts.get(reason, 0) + count
            last_refused_at = max(last_at, last_refused_at or last_at)
    words = dict(WebhookRefusal.Reason.choices)
    by_reason = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    refused_by_reason = tuple((words.get(r, r), c, REFUSAL_ADVICE.get(r, "")) for r, c in by_reason)
    received = connection.webhook_received_at
    heard = (
        connection.has_webhook
        and received is not None
        and received > now - WEBHOOKS_HEARD_FOR
        and (last_refused_at is None or last_refused_at < received)
    )
    return WebhookHealth(
        received_at=received,
        refused=sum(counts.values()),
        refused_by_reason=refused_by_reason,
        last_refused_at=last_refused_at,
        heard=heard,
    )


def webhook_refusals_forget() -> int:
    """Deletes refusal counts older than WEBHOOK_REFUSALS_KEPT; returns how many rows."""
    cutoff = timezone.now() - WEBHOOK_REFUSALS_KEPT
    deleted, _ = WebhookRefusal.objects.filter(hour__lt=cutoff).delete()
    return deleted


# Delivered events are kept this long, so a delivery Scripe retries is still recognised.
WEBHOOK_DELIVERIES_KEPT = timedelta(days=7)


def webhook_deliveries_forget() -> int:
    """Deletes processed deliveries older than WEBHOOK_DELIVERIES_KEPT (their bodies too);
    unprocessed ones stay until their task has run. Returns how many were deleted."""
    cutoff = timezone.now() - WEBHOOK_DELIVERIES_KEPT
    old = WebhookDelivery.objects.filter(processed_at__isnull=False, received_at__lt=cutoff)
    deleted, _ = old.delete()
    return deleted


def post_fetch(*, workspace, post_id: str):
    """Scripe's copy of a post (GET /v1/posts/{id})."""
    with scripe_session(connection_for(workspace)) as scripe:
        return scripe.get_post(post_id)


def post_update(*, workspace, post_id: str, title=UNSET, content=UNSET, scheduled_for=UNSET):
    """Changes the post in Scripe (PATCH /v1/posts/{id}): its text, its time (None
    unschedules it), or both; what is left out stays. Raises ScripeError (409 `conflict`:
    the project's LinkedIn connection is down; 422: a time in the past)."""
    with scripe_session(connection_for(workspace)) as scripe:
        return scripe.update_post(
            post_id, title=title, content=content, scheduled_for=scheduled_for
        )


# OAuth -------------------------------------------------------------------------------------------

# The host project routes the OAuth callback under this URL name (scripe_integration.urls).
OAUTH_CALLBACK_URL_NAME = "scripe_oauth_callback"
# An access token is refreshed this long before Scripe says it expires (a tenth of its life
# when that is shorter), so a call never leaves with a token about to lapse.
OAUTH_EXPIRY_MARGIN = timedelta(seconds=30)
# How long one worker may hold the refresh before another takes over (it crashed), and how
# long another waits for it before giving up with a retryable `held`.
OAUTH_REFRESH_LEASE = timedelta(seconds=30)
OAUTH_REFRESH_WAIT_SECONDS = 5.0
# Scripe's refusals of a refresh that mean the grant is gone (RFC 6749 §5.2).
GRANT_LOST_CODES = frozenset({"invalid_grant", "invalid_client", "unauthorized_client"})


def _oauth_client(base_url: str) -> ScripeOAuthClient:
    return ScripeOAuthClient(
        base_url, timeout=settings.SCRIPE_READ_TIMEOUT, allow_local_hosts=local_hosts_allowed()
    )


def _oauth_server(app: ScripeOAuthApp) -> OAuthServer:
    return OAuthServer.from_api(app.server)


@sensitive_variables("row", "tokens", "refresh_token")
def _oauth_access_token(connection: ScripeConnection, *, renew: bool = False) -> str:
    """The workspace's access token, refreshed first when it has expired (or, with `renew`,
    when Scripe refused it and nobody has refreshed since this connection last read it).

    Refreshing rotates the refresh token: Scripe refuses the old one from then on and takes
    its reuse as theft (the grant is revoked). So exactly one worker refreshes: it claims
    the row (a conditional UPDATE of `oauth_refreshing_until` on the token version it read),
    others wait for the new version. The new pair is stored with a conditional UPDATE on
    that version. A refusal that means the grant is gone raises `oauth_grant_lost`, which
    the session records (key state invalid: admins are told to connect again); a network
    failure raises retryable, leaving the tokens as they were."""
    rows = ScripeConnection.objects.filter(pk=connection.pk)
    fields = (
        "auth_method",
        "encrypted_access_token",
        "access_token_expires_at",
        "encrypted_refresh_token",
        "oauth_token_version",
        "oauth_app",
    )
    waited_until = time.monotonic() + OAUTH_REFRESH_WAIT_SECONDS
    seen_version = getattr(connection, "_oauth_version_used", None)
    while True:
        row = rows.values(*fields).first()
        if not row or row["auth_method"] != ScripeConnection.AuthMethod.OAUTH:
            raise _grant_lost("The workspace is no longer connected with Scripe.")
        if not row["encrypted_refresh_token"]:
            raise _grant_lost("Scripe refused the last refresh; connect again.")
        now = timezone.now()
        version = row["oauth_token_version"]
        fresh = (
            row["encrypted_access_token"]
            and row["access_token_expires_at"]
            and row["access_token_expires_at"] > now
        )
        stale = renew and version == seen_version
        if fresh and not stale:
            connection._oauth_version_used = version
            return crypto.decrypt(row["encrypted_access_token"])
        claimed = (
            rows.filter(oauth_token_version=version)
            .filter(Q(oauth_refreshing_until__isnull=True) | Q(oauth_refreshing_until__lte=now))
            .update(oauth_refreshing_until=now + OAUTH_REFRESH_LEASE)
        )
        if claimed:
            break
        if time.monotonic() > waited_until:
            raise ScripeError(
                code=HELD,
                message="Another worker is refreshing the Scripe token for this workspace.",
                retryable=True,
                retry_after=1.0,
            )
        _wait_for_refresh()
    app = ScripeOAuthApp.objects.filter(pk=row["oauth_app"]).first()
    if app is None:
        raise _grant_lost("This app's registration with Scripe is gone; connect again.")
    refresh_token = crypto.decrypt(row["encrypted_refresh_token"])
    claimed_rows = rows.filter(oauth_token_version=version)
    try:
        with _oauth_client(connection.base_url) as oauth:
            tokens = oauth.refresh(
                _oauth_server(app), client_id=app.client_id, refresh_token=refresh_token
            )
    except ScripeError as error:
        if error.code in GRANT_LOST_CODES:
            # Keep no dead secret; the state (invalid) is set by whoever catches the error.
            claimed_rows.update(
                encrypted_access_token="",
                encrypted_refresh_token="",
                access_token_expires_at=None,
                oauth_refreshing_until=None,
                oauth_token_version=version + 1,
            )
            raise _grant_lost(error.message) from None
        claimed_rows.update(oauth_refreshing_until=None)
        raise
    claimed_rows.update(
        encrypted_access_token=crypto.encrypt(tokens.access_token),
        encrypted_refresh_token=crypto.encrypt(tokens.refresh_token),
        access_token_expires_at=_expires_with_margin(tokens.expires_at),
        oauth_refreshing_until=None,
        oauth_token_version=version + 1,
    )
    connection._oauth_version_used = version + 1
    return tokens.access_token


def _wait_for_refresh() -> None:
    """Another worker is refreshing: its answer is a moment away."""
    time.sleep(0.05)


def _expires_with_margin(expires_at: datetime) -> datetime:
    lifetime = expires_at - timezone.now()
    return expires_at - min(OAUTH_EXPIRY_MARGIN, lifetime / 10)


def _grant_lost(detail: str) -> ScripeError:
    return ScripeError(code="oauth_grant_lost", message=detail, http_status=400)


@dataclass(frozen=True)
class OAuthStart:
    """Where to send the admin's browser, and what the callback must find in the session:
    `state` (checked against the answer) and the PKCE `code_verifier` (never sent until the
    code is exchanged)."""

    authorize_url: str = field(repr=False)
    state: str = field(repr=False)
    code_verifier: str = field(repr=False)


def _pkce_challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def _latest_oauth_app(base_url: str, redirect_uri: str) -> ScripeOAuthApp | None:
    found = ScripeOAuthApp.objects.filter(base_url=base_url, redirect_uri=redirect_uri)
    return found.order_by("-registered_at", "-pk").first()


def oauth_app_for(*, base_url: str, redirect_uri: str) -> ScripeOAuthApp:
    """This app's registration with the Scripe at `base_url`: discovered and registered
    (RFC 7591) the first time, then reused. Registered again when the calendar has come to
    need scopes the registration lacks, since Scripe refuses to authorize a scope its client
    did not register; the earlier registration stays, for the workspaces whose grants belong
    to it (a refresh names the client the grant was made for). Raises ScripeError."""
    found = _latest_oauth_app(base_url, redirect_uri)
    if found and set(OAUTH_SCOPES) <= set(str(found.server.get("scope", "")).split()):
        return found
    with _oauth_client(base_url) as oauth:
        server = oauth.discover()
        registration = oauth.register(
            server,
            client_name=settings.PRODUCT_NAME or "Scripe Calendar",
            redirect_uri=redirect_uri,
            scopes=OAUTH_SCOPES,
        )
    metadata = {
        "issuer": server.issuer,
        "authorization_endpoint": server.authorization_endpoint,
        "token_endpoint": server.token_endpoint,
        "registration_endpoint": server.registration_endpoint,
        "revocation_endpoint": server.revocation_endpoint,
        "code_challenge_methods_supported": list(server.code_challenge_methods),
        # What Scripe registered (RFC 7591 echoes it), or, silent, what was asked for.
        "scope": registration.scope or " ".join(OAUTH_SCOPES),
    }
    # Two admins registering at the same moment make two registrations: both work, and
    # each connection keeps the one its grant was made for.
    return ScripeOAuthApp.objects.create(
        base_url=base_url,
        redirect_uri=redirect_uri,
        client_id=registration.client_id,
        server=metadata,
    )


def oauth_start(*, workspace, redirect_uri: str) -> OAuthStart:
    """Begins connecting the workspace with Scripe by OAuth 2.1: registers this app with the
    workspace's Scripe if it has not yet, and makes the authorize address with a fresh
    `state` and a PKCE S256 challenge. Raises ScripeError (Scripe not reachable, or not
    offering what the contract promises)."""
    connection = connection_for(workspace)
    app = oauth_app_for(base_url=connection.base_url, redirect_uri=redirect_uri)
    verifier = secrets.token_urlsafe(64)
    state = secrets.token_urlsafe(32)
    query = urlencode(
        {
            "response_type": "code",
            "client_id": app.client_id,
            "redirect_uri": redirect_uri,
            "scope": " ".join(OAUTH_SCOPES),
            "state": state,
            "code_challenge": _pkce_challenge(verifier),
            "code_challenge_method": "S256",
        }
    )
    url = f"{_oauth_server(app).authorization_endpoint}?{query}"
    return OAuthStart(authorize_url=url, state=state, code_verifier=verifier)


@sensitive_variables("code", "code_verifier", "tokens")
def oauth_complete(
    *, workspace, base_url: str, code: str, code_verifier: str, redirect_uri: str, by=None
) -> tuple[bool, str]:
    """Exchanges the authorization code (with the PKCE verifier) for tokens, asks Scripe
    which workspace they reach by default (`GET /v1/workspaces/me`), and switches the
    workspace to OAuth: tokens stored encrypted, the key dropped. Returns (connected, what
    to tell the admin); nothing changes when it fails. `base_url` is the one the connection
    was started for: if an admin changed it meanwhile, the code is not spent elsewhere."""
    connection = connection_for(workspace)
    if connection.base_url.rstrip("/") != base_url.rstrip("/"):
        return False, (
            "The Scripe base URL changed while connecting; nothing was changed. Press "
            "“Connect with Scripe” again."
        )
    app = _latest_oauth_app(base_url, redirect_uri)  # the one oauth_start used
    if app is None:
        return False, "This connection was not started here; press “Connect with Scripe” again."
    try:
        with _oauth_client(base_url) as oauth:
            tokens = oauth.exchange_code(
                _oauth_server(app),
                client_id=app.client_id,
                code=code,
                code_verifier=code_verifier,
                redirect_uri=redirect_uri,
            )
        with ScripeClient(
            base_url,
            tokens.access_token,
            read_timeout=settings.SCRIPE_READ_TIMEOUT,
            allow_local_hosts=local_hosts_allowed(),
        ) as scripe:
            found = _workspace_me(scripe)
    except ScripeError as error:
        return False, f"Could not connect with Scripe: {_oauth_error(error)}"
    connection.set_oauth_tokens(
        access=tokens.access_token,
        refresh=tokens.refresh_token,
        expires_at=_expires_with_margin(tokens.expires_at),
    )
    connection.connect_oauth(app=app, by=by)
    connection.save()
    connection.mark_valid(
        workspace_id=found.id, name=found.name, plan=found.plan, scopes=tokens.scopes
    )
    name = found.name or found.id
    scopes = ", ".join(tokens.scopes) or "none"
    return True, (
        f"Connected with Scripe: workspace {name} ({found.id}), {found.plan} plan, "
        f"permissions {scopes}. The API key is no longer used."
    )


def _oauth_error(error: ScripeError) -> str:
    if error.code in GRANT_LOST_CODES:
        return (
            f"Scripe refused the authorization ({error.message}). Press “Connect with Scripe” "
            "again."
        )
    if not answered_by_scripe(error):
        return UNREACHABLE_AT_ADDRESS
    return describe_error(error)


@sensitive_variables("refresh_token")
def oauth_disconnect(*, workspace) -> tuple[bool, str]:
    """Stops using OAuth for the workspace: asks Scripe to revoke the grant (RFC 7009; a
    failure there is said, the tokens are dropped all the same) and goes back to needing a
    key. Returns (disconnected, what to tell the admin)."""
    connection = connection_for(workspace)
    if not connection.uses_oauth:
        return False, "This workspace is not connected with Scripe by OAuth."
    revoked = ""
    app = connection.oauth_app
    if app is not None and connection.encrypted_refresh_token:
        try:
            refresh_token = crypto.decrypt(connection.encrypted_refresh_token)
            with _oauth_client(connection.oauth_base_url) as oauth:
                oauth.revoke(_oauth_server(app), client_id=app.client_id, token=refresh_token)
        except (ScripeError, crypto.DecryptionError):
            revoked = (
                " Scripe could not be told to revoke the access; remove the app under Scripe's "
                "settings if it is still listed there."
            )
    connection.forget_oauth()
    connection.save()
    return True, (
        "Disconnected from Scripe: the tokens are deleted, and nothing is generated until an "
        f"admin enters an API key or connects with Scripe again.{revoked}"
    )
