"""The state file (`--state-file PATH`): the sandbox's data across restarts.

Kept: projects, posts, jobs, idempotency records, webhook endpoints (with their secrets), OAuth
clients, grants and tokens, spend, revoked keys and the id generator's state (so a seeded
sandbox does not hand out an id twice). Not kept: request counters, faults, forced job
failures, rate-limit windows, OAuth codes and webhook deliveries in flight. Times are
wall-clock, so a job that was running when the sandbox stopped is finished when it comes back, and a
post whose time passed meanwhile is published (or fails to be) on the first tick.

Written atomically (a temporary file in the same directory, then `os.replace`) whenever the
state differs from what was last written, checked on every clock tick and on stop. Read once
at start: a missing file starts fresh; an unreadable one is moved aside to `PATH.corrupt` and
the sandbox starts fresh; both say so in a log line.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import tempfile
import threading
from dataclasses import asdict, fields
from pathlib import Path

from scripe_integration.sandbox.oauth import store_of
from scripe_integration.sandbox.state import (
    Job,
    Post,
    Project,
    SandboxState,
    StoredResponse,
    WebhookEndpoint,
)

FORMAT_VERSION = 1
logger = logging.getLogger("scripe_integration.sandbox")


def _rows(cls, items: list[dict]) -> list:
    names = {f.name for f in fields(cls)}
    return [cls(**{k: v for k, v in item.items() if k in names}) for item in items]


def dump(state: SandboxState) -> dict:
    oauth = store_of(state).dump()
    with state.lock:
        version, internal, gauss = state.rng.getstate()
        return {
            "version": FORMAT_VERSION,
            "projects": [asdict(p) for p in state.projects.values()],
            "posts": [asdict(p) for p in state.posts.values()],
            "jobs": [asdict(j) for j in state.jobs.values()],
            "webhookEndpoints": [asdict(e) for e in state.webhook_endpoints.values()],
            "idempotency": [
                {
                    "route": route,
                    "key": key,
                    "bodyHash": stored.body_hash,
                    "status": stored.status,
                    "body": base64.b64encode(stored.body).decode(),
                    "storedAt": stored.stored_at,
                }
                for (route, key), stored in state.idempotency.items()
            ],
            "spend": dict(state.spend),
            "revokedKeys": sorted(state.config.revoked_keys),
            "rng": [version, list(internal), gauss],
            "oauth": oauth,
        }


def load(state: SandboxState, data: dict) -> None:
    """Replaces the state's data with the file's (the seeded projects stay when missing)."""
    if not isinstance(data, dict) or data.get("version") != FORMAT_VERSION:
        raise ValueError(f"not a version {FORMAT_VERSION} sandbox state")
    projects = _rows(Project, data["projects"])
    posts = _rows(Post, data["posts"])
    jobs = []
    for job in _rows(Job, data["jobs"]):
        job.failure = tuple(job.failure) if job.failure else None
        jobs.append(job)
    endpoints = _rows(WebhookEndpoint, data["webhookEndpoints"])
    idempotency = {
        (row["route"], row["key"]): StoredResponse(
            row["bodyHash"], row["status"], base64.b64decode(row["body"]), row["storedAt"]
        )
        for row in data["idempotency"]
    }
    version, internal, gauss = data["rng"]
    with state.lock:
        state.projects.update({p.id: p for p in projects})
        state.posts = {p.id: p for p in posts}
        state.jobs = {j.id: j for j in jobs}
        state.webhook_endpoints = {e.id: e for e in endpoints}
        state.idempotency = idempotency
        state.spend = {str(k): int(v) for k, v in data["spend"].items()}
        state.config.revoked_keys.update(data["revokedKeys"])
        state.rng.setstate((version, tuple(internal), gauss))
    store_of(state).load(data.get("oauth") or {})


class StateFile:
    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        self._last_written: str | None = None
        self._lock = threading.Lock()

    def restore(self, state: SandboxState) -> bool:
        """Loads the file into `state`; False (and a log line) when it starts fresh."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            logger.info("sandbox state file %s not found; starting fresh", self.path)
            return False
        try:
            load(state, json.loads(text))
        except (ValueError, KeyError, TypeError) as error:
            aside = self.path.with_name(self.path.name + ".corrupt")
            os.replace(self.path, aside)
            logger.warning(
                "sandbox state file %s is unreadable (%s: %s); moved it to %s and starting fresh",
                self.path,
                error.__class__.__name__,
                error,
                aside,
            )
            return False
        self._last_written = text
        logger.info(
            "sandbox state loaded from %s: %d posts, %d jobs, %d webhook endpoints",
            self.path,
            len(state.posts),
            len(state.jobs),
            len(state.webhook_endpoints),
        )
        return True

    def save(self, state: SandboxState) -> bool:
        """Writes the state when it changed since the last write; True when it wrote."""
        text = json.dumps(dump(state), separators=(",", ":"))
        with self._lock:
            if text == self._last_written:
                return False
            self.path.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(
                prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent
            )
            try:
                with os.fdopen(handle, "w", encoding="utf-8") as output:
                    output.write(text)
                    output.flush()
                    os.fsync(output.fileno())
                os.replace(temporary, self.path)
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise
            self._last_written = text
            return True
