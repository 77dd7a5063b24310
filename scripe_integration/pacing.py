"""When to call Scripe next. Pure functions of what we know, so the pacing can be tested alone.

The aim is few calls per generation without holding a worker while Scripe writes: the submit
returns at once, the first poll lands when Scripe's estimate says the job should be done,
and a job that runs long is polled less and less often rather than more. Calls for one
workspace share its rate limit: `seconds_on_hold` says when the next may go.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from scripe_integration.plans import DOCUMENTED_RATE_LIMIT

DEFAULT_ESTIMATE_MS = 15_000
MIN_POLL = 1.0
MAX_POLL = 30.0
STALLED_POLL = 60.0
STALL_FACTOR = 3  # a job past 3x its estimate (and at least STALL_AFTER) is stalled
STALL_AFTER = timedelta(minutes=2)
GIVE_UP_AFTER = timedelta(minutes=30)
SUBMIT_GIVE_UP_AFTER = timedelta(minutes=15)
BACKOFF_BASE = 2.0
BACKOFF_CAP = 60.0
# Reading back what changed in Scripe is background work: it may spend this share of the
# workspace's rate limit, and leaves the rest to generations and people.
SYNC_SHARE = 0.1


def backoff(tries: int, retry_after: float | None = None) -> float:
    """Seconds before retrying a transient failure: exponential from 2 s to a minute, never
    sooner than Scripe's Retry-After."""
    delay = min(BACKOFF_CAP, BACKOFF_BASE * 2 ** max(0, tries - 1))
    return max(delay, retry_after or 0.0)


def is_stalled(*, accepted_at: datetime, now: datetime, estimate_ms: int | None) -> bool:
    estimate = timedelta(milliseconds=estimate_ms or DEFAULT_ESTIMATE_MS)
    return now - accepted_at > max(STALL_AFTER, estimate * STALL_FACTOR)


def next_poll_delay(
    *,
    accepted_at: datetime,
    now: datetime,
    estimate_ms: int | None,
    progress: float | None,
    stalled: bool,
    started_at: datetime | None = None,
    previous_estimate_ms: int | None = None,
) -> float:
    """Seconds until the next GET /v1/jobs/{id}. `accepted_at` is when Scripe created the
    job, `started_at` when a writer picked it up (progress counts from then).

    The contract does not say whether `estimatedCompletionMs` is the job's whole duration or
    the time it still needs. At submit both readings agree. Later, an estimate that shrank
    since the previous answer is read as time remaining; one that stayed put as the total."""
    if stalled:
        return STALLED_POLL
    elapsed = (now - accepted_at).total_seconds()
    estimate = (estimate_ms or DEFAULT_ESTIMATE_MS) / 1000
    shrinking = (
        estimate_ms is not None
        and previous_estimate_ms is not None
        and estimate_ms < previous_estimate_ms - 500
    )
    if progress and 0.05 <= progress < 1 and started_at:
        # Progress so far predicts the rest better than the estimate made at submit time.
        running = max(0.0, (now - started_at).total_seconds())
        remaining = running * (1 - progress) / progress
    elif shrinking:
        remaining = estimate
    elif elapsed < estimate:
        remaining = estimate - elapsed
    else:
        # Past the estimate: back off in proportion to how long it has run.
        remaining = elapsed * 0.25
    return min(MAX_POLL, max(MIN_POLL, remaining + 0.25))


def spacing(limit: int | None) -> float:
    """Seconds between calls that spend a rate limit of `limit` per minute evenly."""
    return 60.0 / limit if limit else 0.0


def seconds_on_hold(
    *,
    hold_until: datetime | None,
    remaining: int | None,
    reset_at: datetime | None,
    now: datetime,
) -> float:
    """How long a call must wait: a Retry-After still running, or a used-up window that has
    not reset yet."""
    wait = 0.0
    if hold_until is not None:
        wait = (hold_until - now).total_seconds()
    if remaining is not None and remaining <= 0 and reset_at is not None:
        wait = max(wait, (reset_at - now).total_seconds())
    return max(0.0, wait)


def sync_calls_per_minute(limit: int | None) -> float:
    """The background sync's allowance: a tenth of the workspace's rate limit per minute, as
    Scripe's `X-RateLimit-Limit` last said, or as documented until it has said."""
    return (limit or DOCUMENTED_RATE_LIMIT) * SYNC_SHARE
