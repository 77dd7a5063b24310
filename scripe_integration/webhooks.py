"""Verifying and reading Scripe's webhook deliveries.

Scripe's contract says deliveries are signed with HMAC-SHA-256 and the endpoint's `whsec_`
secret but does not publish the header or the envelope; this module holds our one reading of
them (the sandbox's, `scripe_integration/sandbox/delivery.py`), so a change is made here only:

- header `Scripe-Signature: t=<unix seconds>,v1=<hex>` (several `v1=` entries are allowed),
  where `<hex>` is HMAC-SHA-256 keyed with the whole secret over `"<t>.<raw body>"`;
- body `{"id": "evt_…", "type": "post.updated", "createdAt": …, "workspaceId": "org_…",
  "data": {"object": <Post or Job>}}`; `id` is the same on every retry of an event. The
  contract does not pin the envelope, and `{"data": <Post or Job>}` (the API's own
  single-resource envelope) is read the same way; fields we do not know, at the top or
  inside, are ignored.

Verify the raw bytes before parsing them, and dedupe on the event id: a delivery can arrive
more than once, and out of order.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from scripe_integration.contract import Job, KnowledgeDocument, Post, parse_timestamp

SIGNATURE_HEADER: Final = "Scripe-Signature"
SIGNATURE_SCHEME: Final = "v1"
DEFAULT_TOLERANCE_SECONDS: Final = 300


class WebhookVerificationError(ValueError):
    """The delivery is not proven to come from Scripe (or is too old to trust)."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason  # missing_header | malformed_header | bad_signature | too_old ...
        self.message = message


def signature(secret: str, body: bytes, timestamp: int) -> str:
    """The header value Scripe sends for `body` at `timestamp`: for tests and tools."""
    return f"t={timestamp},{SIGNATURE_SCHEME}={_digest(secret, body, timestamp)}"


def signature_header(secrets: Iterable[str], body: bytes, timestamp: int) -> str:
    """The header value for `body` signed with each secret, one `v1=` entry each, the way
    Scripe signs: for signing webhooks of one's own the same way, with the new and the
    previous secret while a rotation settles, so a receiver holding either accepts it."""
    entries = [f"{SIGNATURE_SCHEME}={_digest(secret, body, timestamp)}" for secret in secrets]
    return ",".join([f"t={timestamp}", *entries])


def verify_webhook(
    secret: str | Iterable[str],
    body: bytes,
    header: str | None,
    *,
    tolerance: float = DEFAULT_TOLERANCE_SECONDS,
    now: float | None = None,
) -> int:
    """Checks a delivery's signature header against its raw body; returns its timestamp.

    `secret` may be several secrets (the new and the old one while a rotation settles). The
    comparison is constant-time. A timestamp further than `tolerance` seconds from `now`
    (either way) is refused, so a captured delivery cannot be replayed later. Raises
    `WebhookVerificationError` otherwise.
    """
    if not header:
        raise WebhookVerificationError("missing_header", f"No {SIGNATURE_HEADER} header.")
    if not isinstance(body, bytes | bytearray):
        raise TypeError("verify the raw body bytes, not a parsed or re-encoded copy")
    timestamp, signatures = _parse_header(header)
    secrets = [secret] if isinstance(secret, str) else list(secret)
    if not secrets or not all(isinstance(s, str) and s for s in secrets):
        raise WebhookVerificationError("no_secret", "No webhook secret to verify with.")
    expected = [_digest(s, bytes(body), timestamp) for s in secrets]
    # Every pair is compared, so the time taken says nothing about which one matched.
    matched = False
    for candidate in signatures:
        for wanted in expected:
            matched |= hmac.compare_digest(candidate, wanted)
    if not matched:
        raise WebhookVerificationError("bad_signature", "The signature does not match.")
    age = (time.time() if now is None else now) - timestamp
    if abs(age) > tolerance:
        raise WebhookVerificationError(
            "too_old", f"The signature is {abs(age):.0f} s from now; at most {tolerance:.0f}."
        )
    return timestamp


@dataclass(frozen=True)
class WebhookEvent:
    id: str
    type: str
    created_at: datetime | None
    workspace_id: str | None
    object: dict[str, Any] = field(repr=False)

    @property
    def post(self) -> Post | None:
        """The post of a `post.*` event."""
        return Post.from_api(self.object) if self.type.startswith("post.") else None

    @property
    def job(self) -> Job | None:
        """The job of a `job.*` event."""
        return Job.from_api(self.object) if self.type.startswith("job.") else None

    @property
    def document(self) -> KnowledgeDocument | None:
        """The document of a `knowledge.*` event."""
        if not self.type.startswith("knowledge."):
            return None
        return KnowledgeDocument.from_api(self.object)


def parse_event(body: bytes) -> WebhookEvent:
    """The event in a (verified) delivery body; `ValueError` for anything of another shape.

    `data` is either `{"object": <object>}` or the object itself: an object is told apart
    by `data.object` being an object (a resource's own field of that name would be a
    string, as in Stripe's `"object": "event"`). Either way the object needs a string id."""
    try:
        payload = json.loads(body)
        data = payload["data"]
        event_id, event_type = payload["id"], payload["type"]
    except (ValueError, KeyError, TypeError) as error:
        raise ValueError(f"not a Scripe webhook event ({error.__class__.__name__})") from None
    if not (isinstance(event_id, str) and event_id and isinstance(event_type, str)):
        raise ValueError("not a Scripe webhook event (id and type are strings)")
    if not isinstance(data, dict):
        raise ValueError("not a Scripe webhook event (data is an object)")
    obj = data["object"] if isinstance(data.get("object"), dict) else data
    if not (isinstance(obj.get("id"), str) and obj["id"]):
        raise ValueError("not a Scripe webhook event (its object has an id)")
    workspace_id = payload.get("workspaceId")
    return WebhookEvent(
        id=event_id,
        type=event_type,
        created_at=parse_timestamp(payload.get("createdAt")),
        workspace_id=workspace_id if isinstance(workspace_id, str) else None,
        object=obj,
    )


def _digest(secret: str, body: bytes, timestamp: int) -> str:
    message = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def _parse_header(header: str) -> tuple[int, list[str]]:
    timestamp = None
    signatures = []
    for part in header.split(","):
        name, sep, value = part.strip().partition("=")
        if not sep:
            continue
        if name == "t":
            try:
                timestamp = int(value)
            except ValueError:
                timestamp = None
                break
        elif name == SIGNATURE_SCHEME and value:
            signatures.append(value.strip())
    if timestamp is None or not signatures:
        raise WebhookVerificationError(
            "malformed_header", f"{SIGNATURE_HEADER} needs t=<unix seconds> and v1=<signature>."
        )
    return timestamp, signatures
