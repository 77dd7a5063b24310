"""Prometheus metrics about talking to Scripe: calls by endpoint and status, 429s, and the
time calls were held back by a workspace's rate limit (scripe_integration.services).

An endpoint is the path with its ids replaced (`jobs/{id}/cancel`), so the number of series
stays fixed however many posts and jobs there are. Counters only, so prometheus_client's
multiprocess mode sums them across the web and worker processes.
"""

from __future__ import annotations

import re

from prometheus_client import Counter, Histogram

CALLS = Counter(
    "scripe_calls",
    "Requests to Scripe's API, by method, endpoint and HTTP status ('error' when none came).",
    ["method", "endpoint", "status"],
)
CALL_SECONDS = Histogram(
    "scripe_call_seconds",
    "How long a request to Scripe's API took, by method and endpoint.",
    ["method", "endpoint"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30),
)
RATE_LIMITED = Counter(
    "scripe_rate_limited",
    "429 answers from Scripe (its rate limit was reached), by endpoint.",
    ["endpoint"],
)
HELD = Counter(
    "scripe_held_calls",
    "Calls the calendar held back itself because a workspace's rate limit was used up.",
)
HELD_SECONDS = Counter(
    "scripe_held_seconds",
    "Seconds of waiting the held calls were told to take before trying again.",
)

# Scripe's ids have a short type prefix (`job_…`, `post_…`); anything with a digit is an id
# too (an upload's signed path). Words like `me`, `cancel` or `rotate-secret` stay.
_ID = re.compile(r"^(?:[a-z]+_[A-Za-z0-9_-]+|.*\d.*)$")


def endpoint_of(path: str) -> str:
    """`jobs/job_123/cancel` → `jobs/{id}/cancel`; the query string is dropped."""
    path = path.split("?", 1)[0].strip("/")
    return "/".join("{id}" if _ID.match(part) else part for part in path.split("/")) or "/"


def call_observe(*, method: str, path: str, status: int | None, seconds: float) -> None:
    endpoint = endpoint_of(path)
    CALLS.labels(method, endpoint, str(status) if status is not None else "error").inc()
    CALL_SECONDS.labels(method, endpoint).observe(seconds)
    if status == 429:
        RATE_LIMITED.labels(endpoint).inc()


def held_observe(*, seconds: float) -> None:
    HELD.inc()
    HELD_SECONDS.inc(max(seconds, 0.0))
