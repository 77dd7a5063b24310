"""Per-token rate limits: a fixed one-minute window counted in the cache every web process
shares (`CACHES["api"]`: Redis, or the database), `API_RATE_LIMIT` requests a minute. Every
answer says where the token stands (`RateLimit-Limit`, `-Remaining`, `-Reset` in seconds);
past the limit the answer is 429 with `Retry-After`."""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import caches

WINDOW_SECONDS = 60


@dataclass(frozen=True)
class RateState:
    limit: int
    used: int
    reset: int

    @property
    def allowed(self) -> bool:
        return self.used <= self.limit

    @property
    def remaining(self) -> int:
        return max(self.limit - self.used, 0)

    def headers(self) -> dict[str, str]:
        return {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset),
        }


def rate_take(*, token_key: str) -> RateState:
    """Counts one request for the token in the current window and says where it stands."""
    now = time.time()
    start = int(now // WINDOW_SECONDS) * WINDOW_SECONDS
    key = f"api-rate:{token_key}:{start}"
    cache = caches["api"]
    # add() then incr(): atomic on Redis; a missing key (evicted between the two) starts at 1.
    cache.add(key, 0, timeout=WINDOW_SECONDS + 5)
    try:
        used = cache.incr(key)
    except ValueError:
        cache.set(key, 1, timeout=WINDOW_SECONDS + 5)
        used = 1
    reset = max(int(start + WINDOW_SECONDS - now), 1)
    return RateState(settings.API_RATE_LIMIT, used, reset)
