"""Webhook deliveries: signed POSTs to the endpoints, from background threads, with retries.

The contract does not publish the delivery format (open question 12), so the sandbox picks
one, and this docstring is the one place it is written down:

- Request: `POST <endpoint url>` with `Content-Type: application/json`, the body exactly the
  bytes signed, and `User-Agent: ScripeSandbox-Webhooks/1`.
- Body (the event envelope):
  `{"id": "evt_…", "type": "post.updated", "createdAt": "<ISO 8601 UTC>",
  "workspaceId": "org_…", "data": {"object": <the Post or Job, as GET returns it>}}`, or
  with `--webhook-envelope bare`, `"data": <the Post or Job>` (the contract pins neither).
  The object is a snapshot taken when the event happened. `id` is unique across restarts
  and the same on every retry of the event, so receivers dedupe on it.
- Signature header: `Scripe-Signature: t=<unix seconds>,v1=<hex>`, where `<hex>` is
  HMAC-SHA-256, keyed with the endpoint's whole secret (`whsec_…`, as UTF-8), over
  `"<t>.<raw body>"`. Each attempt is signed when it is made, with a fresh `t` and the
  endpoint's secret at that moment (after a rotation, retries use the new secret).
- Success is any 2xx within the timeout (`--webhook-timeout`, 5 s by default). Anything else
  (another status, a refused connection, a timeout) is retried after the delays of
  `--webhook-retry-seconds` (default `1,2,4,8,16`: six attempts over about 31 s); then the
  delivery is `failed`. Redirects are not followed. A delivery whose endpoint was deactivated
  before an attempt is `cancelled`.
- Events: `post.created`, `post.updated`, `post.scheduled`, `post.unscheduled`,
  `job.completed`, `job.failed` are emitted; the other names of the contract's closed list can
  be subscribed to but never fire here.

Deliveries are kept in memory (not in the state file) and listed, attempts and all, at
`GET /_sandbox/webhook-deliveries`.
"""

from __future__ import annotations

import hashlib
import heapq
import hmac
import http.client
import itertools
import json
import logging
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from scripe_integration.sandbox.state import SandboxState, iso, unique_id

SIGNATURE_HEADER = "Scripe-Signature"
USER_AGENT = "ScripeSandbox-Webhooks/1"

logger = logging.getLogger("scripe_integration.sandbox")


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """The `Scripe-Signature` value for a body sent at `timestamp` (unix seconds)."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


@dataclass
class Delivery:
    id: str
    endpoint_id: str
    event_id: str
    event_type: str
    body: bytes
    created: float
    status: str = "pending"  # pending | delivered | failed | cancelled
    attempts: list[dict] = field(default_factory=list)
    next_attempt_at: float | None = None

    def as_json(self) -> dict:
        return {
            "id": self.id,
            "endpointId": self.endpoint_id,
            "eventId": self.event_id,
            "eventType": self.event_type,
            "status": self.status,
            "createdAt": iso(self.created),
            "nextAttemptAt": iso(self.next_attempt_at),
            "attempts": list(self.attempts),
            "payload": json.loads(self.body),
        }


class WebhookDispatcher:
    """A queue of deliveries ordered by when they are due, worked by a few threads."""

    def __init__(self, state: SandboxState, *, workers: int = 4, quiet: bool = True) -> None:
        self.state = state
        self.quiet = quiet
        self.deliveries: list[Delivery] = []
        self._queue: list[tuple[float, int, Delivery]] = []
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._stopping = False
        self._threads = [
            threading.Thread(target=self._work, name=f"scripe-sandbox-webhooks-{i}", daemon=True)
            for i in range(workers)
        ]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        for thread in self._threads:
            if thread.is_alive():
                thread.join(timeout=self.state.config.webhook_timeout + 1)

    def enqueue(self, endpoint_id: str, event_id: str, event_type: str, body: bytes) -> None:
        now = time.time()
        delivery = Delivery(unique_id("whd_"), endpoint_id, event_id, event_type, body, now)
        delivery.next_attempt_at = now
        with self._cond:
            self.deliveries.append(delivery)
            heapq.heappush(self._queue, (time.monotonic(), next(self._seq), delivery))
            self._cond.notify()

    def listing(self) -> list[dict]:
        with self._cond:
            return [d.as_json() for d in self.deliveries]

    def _work(self) -> None:
        while True:
            with self._cond:
                while not self._stopping:
                    if self._queue:
                        wait = self._queue[0][0] - time.monotonic()
                        if wait <= 0:
                            break
                        self._cond.wait(wait)
                    else:
                        self._cond.wait()
                if self._stopping:
                    return
                _, _, delivery = heapq.heappop(self._queue)
            self._attempt(delivery)

    def _attempt(self, delivery: Delivery) -> None:
        config = self.state.config
        with self.state.lock:
            endpoint = self.state.webhook_endpoints.get(delivery.endpoint_id)
            target = (endpoint.url, endpoint.secret) if endpoint and endpoint.is_active else None
        if target is None:
            with self._cond:
                delivery.status, delivery.next_attempt_at = "cancelled", None
            return
        url, secret = target
        started = time.time()
        status_code, error = self._post(url, secret, delivery.body, config.webhook_timeout)
        ok = status_code is not None and 200 <= status_code < 300
        number = len(delivery.attempts) + 1
        retry_in = None
        if not ok and number <= len(config.webhook_retry_seconds):
            retry_in = config.webhook_retry_seconds[number - 1]
        with self._cond:
            delivery.attempts.append(
                {
                    "attempt": number,
                    "at": iso(started),
                    "url": url,
                    "statusCode": status_code,
                    "error": error,
                    "durationMs": int((time.time() - started) * 1000),
                }
            )
            if ok:
                delivery.status, delivery.next_attempt_at = "delivered", None
            elif retry_in is None:
                delivery.status, delivery.next_attempt_at = "failed", None
            else:
                delivery.next_attempt_at = time.time() + retry_in
                due = time.monotonic() + retry_in
                heapq.heappush(self._queue, (due, next(self._seq), delivery))
                self._cond.notify()
        if not self.quiet:
            outcome = status_code if status_code is not None else error
            logger.info("webhook %s %s attempt %d -> %s", delivery.event_type, url, number, outcome)

    @staticmethod
    def _post(url: str, secret: str, body: bytes, timeout: float) -> tuple[int | None, str | None]:
        """(status code, None) when the receiver answered, (None, error) when it did not."""
        parts = urlsplit(url)
        secure = parts.scheme == "https"
        kind = http.client.HTTPSConnection if secure else http.client.HTTPConnection
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        connection = kind(parts.hostname, parts.port, timeout=timeout)
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            SIGNATURE_HEADER: sign(secret, body, int(time.time())),
        }
        try:
            connection.request("POST", path, body=body, headers=headers)
            response = connection.getresponse()
            response.read()
            return response.status, None
        except TimeoutError:
            return None, "timeout"
        except (OSError, http.client.HTTPException) as error:
            return None, f"{error.__class__.__name__}: {error}"
        finally:
            connection.close()
