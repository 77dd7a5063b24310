"""What every part of the sandbox shares: its time format and job vocabulary."""

from __future__ import annotations

from datetime import UTC, datetime

TERMINAL = frozenset({"DONE", "FAILED", "CANCELLED"})
# A source text (or a file's name) containing this makes its job fail: `[sandbox:fail=code]`.
FAIL_MARKER = "[sandbox:fail"


def iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + (
        f"{int(ts * 1000) % 1000:03d}Z"
    )
