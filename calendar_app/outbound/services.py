"""Outgoing webhooks (#27): the endpoints a workspace's admins register, and sending their
deliveries.

An endpoint is an address on the public internet (the destination rule of
scripe_integration/destinations.py; OUTGOING_WEBHOOKS_ALLOW_LOCAL lifts it for tests and
development), the events it wants, and a `whsec_` secret shown once and stored encrypted.
Rotating makes a new secret and keeps signing with the previous one too for
ROTATION_OVERLAP, so a receiver can switch without losing a delivery.

A delivery is sent by a task, never in a request: the first attempt at once after the
commit, then, while it fails, at RETRY_AFTER from its first attempt (a minute, five, half an
hour, two hours, six, twelve, a day), woken by the every-minute sweep; no worker waits. Any
2xx ends it. An endpoint whose attempts have all failed for DISABLE_AFTER is turned off; the
task that saw it tells the workspace's admins (calendar_app/notifications, above this
package). Each attempt signs the stored body anew:
`Calendar-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>]`, HMAC-SHA-256 of `"<t>.<body>"`
with each current secret (scripe_integration/webhooks.py, the way Scripe signs).
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from calendar_app.core import metrics
from calendar_app.core.refusals import Refusal
from calendar_app.models import WebhookDelivery, WebhookEndpoint, WebhookEvent, Workspace
from calendar_app.outbound import events
from scripe_integration import client, crypto
from scripe_integration.destinations import DestinationRefused, NameNotFound, check_url
from scripe_integration.webhooks import signature_header

SIGNATURE_HEADER = "Calendar-Signature"
SECRET_PREFIX = "whsec_"  # noqa: S105 (the prefix, not a secret)
ROTATION_OVERLAP = timedelta(hours=24)
# When a failing delivery is tried again, counted from its first attempt.
RETRY_AFTER = tuple(timedelta(minutes=m) for m in (1, 5, 30, 2 * 60, 6 * 60, 12 * 60, 24 * 60))
DISABLE_AFTER = timedelta(hours=24)
# A delivery a task took this long ago and never finished (its worker died) is handed on.
SENDING_LEASE = timedelta(minutes=2)
MAX_ENDPOINTS = 20

# How long the delivery log keeps what is finished.
KEEP = timedelta(days=30)

Status = WebhookDelivery.Status
logger = logging.getLogger(__name__)


def local_allowed() -> bool:
    return bool(getattr(settings, "OUTGOING_WEBHOOKS_ALLOW_LOCAL", False))


# endpoints ---------------------------------------------------------------------------------


def endpoint_validate(*, url: str, events: list[str], description: str = "") -> dict:
    """The one check of what an admin typed; field-keyed sentences."""
    errors = {}
    url = (url or "").strip()
    if not url:
        errors["url"] = _("Enter the address to send events to.")
    elif len(url) > 500:
        errors["url"] = _("Use an address of at most 500 characters.")
    else:
        try:
            check_url(url, allow_local=local_allowed())
        # scripe_integration says why in English; the sentences are said here, translated.
        except NameNotFound:
            errors["url"] = _("We could not find %(host)s; check the address.") % {
                "host": urlsplit(url).hostname
            }
        except DestinationRefused:
            errors["url"] = _("Use an https address on the public internet.")
    chosen = [e for e in WebhookEvent.values if e in set(events or [])]
    if not chosen or len(chosen) != len(set(events or [])):
        errors["events"] = _("Choose at least one event from the list.")
    if len(description or "") > 200:
        errors["description"] = _("Keep the description to 200 characters.")
    if errors:
        raise Refusal(fields=errors)
    return {"url": url, "events": chosen, "description": (description or "").strip()}


def endpoint_create(
    *, workspace: Workspace, user, url: str, events: list[str], description: str = ""
) -> tuple[WebhookEndpoint, str]:
    """Registers an endpoint; returns it and its secret, which is shown this once."""
    fields = endpoint_validate(url=url, events=events, description=description)
    if WebhookEndpoint.objects.filter(workspace=workspace).count() >= MAX_ENDPOINTS:
        raise Refusal(
            _("A workspace has at most %(max)s webhook endpoints.") % {"max": MAX_ENDPOINTS}
        )
    secret = _new_secret()
    endpoint = WebhookEndpoint.objects.create(
        workspace=workspace,
        created_by=user,
        secret_encrypted=crypto.encrypt(secret),
        **fields,
    )
    return endpoint, secret


def endpoint_update(
    *, endpoint: WebhookEndpoint, url: str, events: list[str], description: str = ""
) -> WebhookEndpoint:
    fields = endpoint_validate(url=url, events=events, description=description)
    for name, value in fields.items():
        setattr(endpoint, name, value)
    endpoint.save(update_fields=list(fields))
    return endpoint


def endpoint_rotate(*, endpoint: WebhookEndpoint) -> str:
    """A new secret, returned to be shown once. The current one becomes the previous one and
    still signs every delivery for ROTATION_OVERLAP (a second `v1=`)."""
    secret = _new_secret()
    with transaction.atomic():
        locked = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
        locked.previous_secret_encrypted = locked.secret_encrypted
        locked.previous_secret_until = timezone.now() + ROTATION_OVERLAP
        locked.secret_encrypted = crypto.encrypt(secret)
        locked.save(
            update_fields=["previous_secret_encrypted", "previous_secret_until", "secret_encrypted"]
        )
    endpoint.refresh_from_db()
    return secret


def endpoint_disable(*, endpoint: WebhookEndpoint) -> None:
    if not endpoint.disable():
        raise Refusal(_("It is turned off already."))


def endpoint_enable(*, endpoint: WebhookEndpoint) -> None:
    if not endpoint.enable():
        raise Refusal(_("It is turned on already."))


def endpoint_delete(*, endpoint: WebhookEndpoint) -> None:
    """Deletes it with its delivery log; nothing more is sent to it."""
    endpoint.delete()


def signing_secrets(endpoint: WebhookEndpoint) -> list[str]:
    """The secrets a delivery is signed with now: the current one, and the previous one
    while the rotation's overlap lasts."""
    found = [crypto.decrypt(endpoint.secret_encrypted)]
    until = endpoint.previous_secret_until
    if endpoint.previous_secret_encrypted and until and until > timezone.now():
        found.append(crypto.decrypt(endpoint.previous_secret_encrypted))
    return found


def _new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


# deliveries --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sent:
    """What one attempt came to. `disabled`: this attempt turned the endpoint off, and its
    admins are to be told (the caller does: notifications sit above this package)."""

    outcome: str
    disabled: WebhookEndpoint | None = None


def delivery_send(
    *,
    delivery_id: int,
    body_for: Callable[[WebhookDelivery], bytes | None],
    transport=None,
) -> Sent:
    """One attempt of a due delivery: claims it, builds and stores its body at the first
    attempt (`body_for`, the API's representation; None when its post is gone), signs and
    POSTs it, and records what came back; on failure it is due again on the schedule, or
    failed for good after the last try. Safe to run twice: only one claim wins."""
    delivery = WebhookDelivery.objects.select_related("endpoint").filter(pk=delivery_id).first()
    if delivery is None or not delivery.claim():
        return Sent("not due")
    endpoint = delivery.endpoint
    if not endpoint.is_active:
        _finish(
            delivery, Status.FAILED, error=gettext_noop("Not sent: the endpoint is turned off.")
        )
        return Sent("endpoint off")
    if not delivery.body:
        try:
            body = body_for(delivery)
        except Exception:
            # Ended, not left to be handed on and fail again every few minutes.
            logger.exception("Outgoing webhook %s: its body could not be built", delivery.pk)
            _finish(
                delivery,
                Status.FAILED,
                error=gettext_noop("Not sent: its body could not be built."),
            )
            return Sent("broken")
        if body is None:
            _finish(
                delivery, Status.FAILED, error=gettext_noop("Not sent: the post no longer exists.")
            )
            return Sent("gone")
        delivery.body = body.decode()
        WebhookDelivery.objects.filter(pk=delivery.pk).update(body=delivery.body)
    body = delivery.body.encode()
    headers = {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: signature_header(signing_secrets(endpoint), body, int(time.time())),
        "Calendar-Event": delivery.event_type,
        "Calendar-Delivery": str(delivery.public_id),
    }
    answer = client.deliver(
        endpoint.url, body, headers, allow_local_hosts=local_allowed(), transport=transport
    )
    metrics.WEBHOOKS_OUT.labels("delivered" if answer.ok else "failed").inc()
    now = timezone.now()
    first = delivery.first_attempt_at or now
    record = {
        "attempts": delivery.attempts + 1,
        "first_attempt_at": first,
        "last_attempt_at": now,
        "response_status": answer.status,
        "duration_ms": answer.duration_ms,
        "response_head": answer.head[:600],
        "error": answer.error[:300],
    }
    if answer.ok:
        _finish(delivery, Status.DELIVERED, delivered_at=now, **record)
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failing_since=None)
        return Sent("delivered")
    if not answer.error:
        # Stored in English; WebhookDelivery.error_sentence translates it where shown.
        record["error"] = f"The receiver answered {answer.status}."
    later = next((first + wait for wait in RETRY_AFTER if first + wait > now), None)
    if later is None:
        _finish(delivery, Status.FAILED, **record)
    else:
        _finish(delivery, Status.PENDING, next_attempt=later, **record)
    return Sent("failed", disabled=_failed_at(endpoint, now))


def _finish(delivery: WebhookDelivery, status: str, *, next_attempt=None, **fields) -> None:
    """Ends the attempt: written only while this task still holds the claim."""
    WebhookDelivery.objects.filter(pk=delivery.pk, status=Status.SENDING).update(
        status=status, next_attempt_at=next_attempt, claimed_at=None, **fields
    )


def _failed_at(endpoint: WebhookEndpoint, now) -> WebhookEndpoint | None:
    """Notes a failure; turns the endpoint off when it has failed for DISABLE_AFTER, and
    returns it then (once: of two tasks, one turns it off)."""
    WebhookEndpoint.objects.filter(pk=endpoint.pk, failing_since__isnull=True).update(
        failing_since=now
    )
    since = WebhookEndpoint.objects.values_list("failing_since", flat=True).get(pk=endpoint.pk)
    if since is None or now - since < DISABLE_AFTER:
        return None
    hours = DISABLE_AFTER.total_seconds() / 3600
    if not endpoint.disable(reason=f"Every delivery failed for {hours:.0f} hours."):
        return None
    # What waited for it is not sent; an admin can send it again once it is back on.
    WebhookDelivery.objects.filter(endpoint=endpoint, status=Status.PENDING).update(
        status=Status.FAILED,
        next_attempt_at=None,
        error=gettext_noop("Not sent: the endpoint was turned off."),
    )
    return endpoint


def delivery_send_again(*, delivery: WebhookDelivery) -> None:
    """Sends the stored body once more, as a new attempt (a new signature); the retries go on
    from there while its day lasts."""
    if not delivery.endpoint.is_active:
        raise Refusal(_("Turn the endpoint on before sending again."))
    if not delivery.again():
        raise Refusal(_("It is being sent right now."))
    transaction.on_commit(lambda: events.enqueue([delivery.pk]))


def deliveries_wake() -> int:
    """Every minute: hands on deliveries a dead worker left, and enqueues those due (the
    task claims each, so one enqueued twice is sent once). Returns how many were enqueued."""
    now = timezone.now()
    WebhookDelivery.objects.filter(
        status=Status.SENDING, claimed_at__lt=now - SENDING_LEASE
    ).update(status=Status.PENDING, claimed_at=None)
    due = list(
        WebhookDelivery.objects.filter(status=Status.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:500]
    )
    if due:
        events.enqueue(due)
    return len(due)


def deliveries_forget() -> int:
    """Every minute: drops finished deliveries older than KEEP, so the log stays a log."""
    old = WebhookDelivery.objects.filter(
        status__in=[Status.DELIVERED, Status.FAILED], created_at__lt=timezone.now() - KEEP
    )
    return old.delete()[0]
