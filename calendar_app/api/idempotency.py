"""`Idempotency-Key` on every POST, as Scripe does it: per token and route, kept 24 hours. The
same key with the same body (its canonical JSON's SHA-256) answers what the first request
answered, with `Idempotent-Replayed: true`; another body is a 409 and nothing runs. A key
whose first request is still being answered is a 409 too (retry in a moment). A 5xx answer
is not kept, so a retry runs again."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from calendar_app.api.errors import ApiError
from calendar_app.models import IDEMPOTENCY_KEEP, ApiToken, IdempotentRequest

HEADER = "Idempotency-Key"
KEY_FORMAT = re.compile(r"[A-Za-z0-9_-]{1,64}")


def body_hash(data) -> str:
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass
class Claim:
    """A key taken for a request about to run; `keep` stores its answer."""

    row: IdempotentRequest

    def keep(self, status: int, body) -> None:
        if status >= 500:
            self.row.delete()
            return
        self.row.status, self.row.body = status, body
        self.row.save(update_fields=["status", "body"])

    def drop(self) -> None:
        self.row.delete()


@dataclass(frozen=True)
class Replay:
    status: int
    body: object


def idempotency_claim(*, token: ApiToken, route: str, key: str, data) -> Claim | Replay | None:
    """What to do with a POST carrying `key`: run it (a Claim to keep its answer), answer the
    stored Replay, or refuse (ApiError 409). None: no usable key, run as usual (a malformed
    key is ignored, as Scripe does)."""
    if not key or not KEY_FORMAT.fullmatch(key):
        return None
    digest = body_hash(data)
    now = timezone.now()
    lookup = {"token": token, "route": route[:300], "key": key}
    IdempotentRequest.objects.filter(**lookup, expires_at__lte=now).delete()
    try:
        # Its own transaction: the claim is seen by a twin request at once.
        with transaction.atomic():
            row = IdempotentRequest.objects.create(
                **lookup, body_hash=digest, created_at=now, expires_at=now + IDEMPOTENCY_KEEP
            )
        return Claim(row)
    except IntegrityError:
        pass
    earlier = IdempotentRequest.objects.filter(**lookup).first()
    if earlier is None:
        # Its first request failed (5xx) and let the key go a moment ago: run this one.
        return idempotency_claim(token=token, route=route, key=key, data=data)
    if earlier.body_hash != digest:
        raise ApiError(
            "This Idempotency-Key was used with another body; use a new key for a new request.",
            code="idempotency_key_conflict",
            status_code=409,
        )
    if earlier.status is None:
        raise ApiError(
            "A request with this Idempotency-Key is still being answered; retry in a moment.",
            code="idempotency_key_in_use",
            status_code=409,
        )
    return Replay(earlier.status, earlier.body)


def idempotency_forget() -> int:
    """Drops the answers kept past their day (the every-minute sweep): their keys are free."""
    deleted, _ = IdempotentRequest.objects.filter(expires_at__lte=timezone.now()).delete()
    return deleted
