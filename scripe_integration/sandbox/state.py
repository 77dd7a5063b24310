"""The sandbox's in-memory Scripe: one workspace, its projects, posts and jobs, on a clock.

Everything that decides what Scripe would answer lives here; `server.py` only speaks HTTP.
Job states are computed from the clock when read, so a job advances whether or not anyone
polls it, exactly as a real worker would move it along. `settle_all()` brings everything up
to the clock: it writes the posts of finished jobs, announces finished jobs, and publishes
scheduled posts whose time has come. Every read calls it, and so does a clock thread
(`Sandbox`), so webhooks go out even when nobody asks.

Publishing (the sandbox's answer where the contract is silent): a `scheduled` post whose
`scheduledAt` has come is published at that time: `status` becomes `published`, and the extra
field `publishedAt` and `updatedAt` are its `scheduledAt`; `post.updated` is emitted. When the
project has no live LinkedIn connection at that moment (or the post was told to fail its next
publish through the control surface), the publish fails and is not retried: the post keeps
`status: "scheduled"` with its `scheduledAt` now in the past (the legacy status enum has no
"failed"), `updatedAt` is unchanged, no webhook is sent, and the extra field `publishError`
says `{"code", "message", "failedAt"}`. A client should not rely on `publishError` (the real
Scripe does not document it); "still scheduled after its time" is the signal. Rescheduling or
unscheduling the post clears `publishError`, and a rescheduled post is tried again at its new
time.
"""

from __future__ import annotations

import json
import random
import secrets
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from scripe_integration.sandbox.common import FAIL_MARKER, TERMINAL, iso
from scripe_integration.sandbox.sources import SourceStore
from scripe_integration.sandbox.uploads import UploadStore
from scripe_integration.sandbox.writer import write_post

__all__ = ["FAIL_MARKER", "TERMINAL", "iso"]  # also the names other modules import from here

API_VERSION = "2026-08-01"
ACCEPTED_VERSIONS = (API_VERSION,)
IDEMPOTENCY_WINDOW_SECONDS = 24 * 3600
GENERATION_COST_CENTS = 5
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
ALPHANUM = "abcdefghijklmnopqrstuvwxyz0123456789"
ALL_SCOPES = (
    "notes:read",
    "notes:write",
    "posts:read",
    "posts:write",
    "projects:read",
    "jobs:read",
    "sources:write",
    "knowledge:write",
    "webhooks:manage",
)
WEBHOOK_EVENTS = (
    "note.created",
    "post.created",
    "post.updated",
    "post.scheduled",
    "post.unscheduled",
    "source.created",
    "job.completed",
    "job.failed",
    "knowledge.indexed",
)
PUBLISH_FAILURES = {
    "linkedin_not_connected": (
        "The project's LinkedIn connection is not live; the post was not published."
    ),
    "linkedin_error": "LinkedIn refused the post; it was not published.",
}
DEFAULT_TEST_KEY = "scripe_sk_test_sandbox0000000000000000000000"
FAILURES = [
    ("provider_error", "The AI provider returned an error before the post was finished."),
    ("content_policy", "The source text was flagged by the content policy."),
    ("source_unusable", "The source text did not contain enough material for a post."),
]
PROGRESS_MESSAGES = [
    (0.25, "Reading the source"),
    (0.5, "Finding the angle"),
    (0.8, "Writing the draft"),
    (1.01, "Polishing the hook"),
]
GENERATION = "POST_GENERATION"
# Knowledge-base ingests (POST /v1/knowledge, sandbox/knowledge.py): what each type costs, in
# cents (the contract says 1 to 3 by type), and how a running one reports progress.
KNOWLEDGE_COST_CENTS = {
    "KB_INGEST_TEXT": 1,
    "KB_INGEST_URL": 2,
    "KB_INGEST_YOUTUBE": 3,
    "KB_INGEST_FILE": 3,
}
KNOWLEDGE_PROGRESS_MESSAGES = [
    (0.3, "Reading the document"),
    (0.7, "Splitting it into passages"),
    (1.01, "Indexing the passages"),
]


def unique_id(prefix: str) -> str:
    """A ULID (milliseconds, then 80 random bits) that no other run repeats, whatever the
    seed: event ids must stay unique across restarts, since receivers dedupe on them."""
    value = (int(time.time() * 1000) << 80) | secrets.randbits(80)
    return prefix + "".join(CROCKFORD[(value >> shift) & 31] for shift in range(125, -1, -5))


@dataclass
class Config:
    keys: dict[str, tuple[str, ...]] = field(default_factory=dict)  # key -> scopes
    revoked_keys: set[str] = field(default_factory=set)
    expired_keys: set[str] = field(default_factory=set)
    plan: str = "ADVANCED"
    rate_limit: int = 120
    spend_cap: int = 400  # generations per UTC day
    generation_seconds: tuple[float, float] = (8.0, 20.0)
    # How long a knowledge-base ingest runs (after its time in the queue).
    knowledge_seconds: tuple[float, float] = (2.0, 5.0)
    queue_seconds: float = 0.4
    failure_rate: float = 0.1
    deprecation: str | None = None
    extra_projects: int = 0
    # Posts in status `suggested` each project starts with (sandbox/suggestions.py).
    suggestions_per_project: int = 3
    seed: int | None = None
    # How often the clock thread settles jobs and publishes due posts, in seconds.
    tick_seconds: float = 0.2
    # Which webhook URLs are accepted: "public" (the contract: HTTPS, public addresses only),
    # "loopback" (also http(s) to 127.0.0.0/8, ::1 and localhost) or "any" (every address).
    webhook_targets: str = "loopback"
    # Seconds to wait before each retry of a failed delivery; its length is the retry count.
    webhook_retry_seconds: tuple[float, ...] = (1.0, 2.0, 4.0, 8.0, 16.0)
    webhook_timeout: float = 5.0
    # The event's `data`: "object" is `{"object": <Post or Job>}`, "bare" the object itself.
    # The contract pins neither; receivers must read both.
    webhook_envelope: str = "object"
    # Where the state is kept across restarts (None: in memory only).
    state_file: str | None = None
    # The contract leaves open what Scripe reports while a job runs; clients must cope with
    # either: no `progress` at all, and `estimatedCompletionMs` as the whole job's duration
    # ("total") or as the time it still needs ("remaining").
    progress: bool = True
    estimate_reading: str = "total"
    # Uploads and file sources (sandbox/uploads.py, sandbox/sources.py): how long a presigned
    # URL lives, where uploaded bytes go (None: a temporary directory), and how long a
    # SOURCE_INGEST_FILE job runs.
    upload_ttl_seconds: float = 3600.0
    upload_dir: str | None = None
    ingest_seconds: tuple[float, float] = (4.0, 8.0)
    # OAuth (oauth.py): how long an access token lives, and the workspaces besides the
    # sandbox's own that the consenting user belongs to, as (id, name).
    oauth_access_seconds: float = 3600.0
    oauth_workspaces: tuple[tuple[str, str], ...] = (
        ("org_2sandboxSecondWorkspace02", "Second Sandbox Workspace"),
    )


@dataclass
class ApiKey:
    """Who a request's bearer token speaks for: an API key, or an OAuth grant (`oauth.py`),
    which reaches every workspace in `workspace_ids`, `default_workspace_id` unless the
    request names another."""

    secret: str
    id: str
    scopes: tuple[str, ...]
    type: str = "api_key"
    workspace_ids: tuple[str, ...] = ()
    default_workspace_id: str | None = None


@dataclass
class Project:
    id: str
    name: str
    type: str
    status: str
    url: str | None
    created: float
    linkedin_connected: bool = True

    def as_json(self) -> dict:
        return {
            "id": self.id,
            "name": self.name,
            "type": self.type,
            "status": self.status,
            "url": self.url,
            "createdAt": iso(self.created),
        }


@dataclass
class Post:
    id: str
    project_id: str
    title: str
    content: str
    status: str
    content_type: str
    created: float
    updated: float
    scheduled_at: float | None = None
    published_at: float | None = None
    publish_error: dict | None = None  # {"code", "message", "failedAt"} of a failed publish
    fail_next_publish: str | None = None  # an error code, set through the control surface

    def as_json(self) -> dict:
        return {
            "id": self.id,
            "status": self.status,
            "platform": "LINKEDIN",
            "contentType": self.content_type,
            "title": self.title,
            "content": self.content,
            "createdAt": iso(self.created),
            "projectId": self.project_id,
            "scheduledAt": iso(self.scheduled_at),
            "updatedAt": iso(self.updated),
            # Sandbox extras (additive fields; see the module docstring).
            "publishedAt": iso(self.published_at),
            "publishError": self.publish_error,
        }


@dataclass
class Job:
    id: str
    project_id: str
    source_text: str
    language: str | None
    scheduled_for: float | None
    created: float
    pickup_at: float
    finish_at: float
    failure: tuple[str, str] | None
    cancelled_at: float | None = None
    post_id: str | None = None
    announced: bool = False  # job.completed / job.failed emitted
    type: str = GENERATION
    cost_cents: int = GENERATION_COST_CENTS
    # A knowledge ingest's document: its name, and its `kb_` id once indexed.
    document_name: str | None = None
    document_id: str | None = None

    def status_at(self, now: float) -> str:
        if self.cancelled_at is not None:
            return "CANCELLED"
        if now < self.pickup_at:
            return "QUEUED"
        if now < self.finish_at:
            return "RUNNING"
        return "FAILED" if self.failure else "DONE"


@dataclass
class WebhookEndpoint:
    id: str
    url: str
    name: str
    events: list[str]
    project_id: str | None
    secret: str
    created: float
    updated: float
    is_active: bool = True
    disabled_reason: str | None = None

    def as_json(self, *, with_secret: bool = False) -> dict:
        data = {
            "id": self.id,
            "url": self.url,
            "name": self.name,
            "events": list(self.events),
            "isActive": self.is_active,
            "disabledReason": self.disabled_reason,
            "projectId": self.project_id,
            "secretLast4": self.secret[-4:],
            "createdAt": iso(self.created),
            "updatedAt": iso(self.updated),
        }
        if with_secret:
            data["secret"] = self.secret
        return data

    def wants(self, event_type: str, project_id: str | None) -> bool:
        return (
            self.is_active
            and event_type in self.events
            and (self.project_id is None or self.project_id == project_id)
        )


class _Unchanged:
    def __repr__(self) -> str:
        return "UNCHANGED"


UNCHANGED = _Unchanged()


@dataclass
class Fault:
    route: str  # "METHOD /v1/template" or "*"
    remaining: int
    status: int | None
    code: str | None
    message: str | None
    retry_after: int | None
    hang_seconds: float


@dataclass
class StoredResponse:
    body_hash: str
    status: int
    body: bytes
    stored_at: float


class SandboxState:
    """All of the sandbox's data, guarded by one lock (never held across a sleep)."""

    def __init__(self, config: Config, clock: Callable[[], float] = time.time) -> None:
        self.config = config
        self.clock = clock
        self.lock = threading.RLock()
        self.rng = random.Random(config.seed)
        # Fixed ids for the seeded workspace and projects, so an app that synced them keeps
        # working across sandbox restarts.
        self.workspace = {
            "id": "org_2sandboxWorkspace00000001",
            "name": "Sandbox Workspace",
            "plan": config.plan,
        }
        self.keys: dict[str, ApiKey] = {}
        for i, (secret, scopes) in enumerate(sorted(config.keys.items()), start=1):
            self.keys[secret] = ApiKey(secret, f"key_01JSANDBOXKEY{i:013d}", scopes)
        now = clock()
        seeded = [
            (
                "Lena Fischer",
                "PERSONAL_BRAND",
                "ACTIVE",
                "https://www.linkedin.com/in/lena-fischer",
                True,
            ),
            (
                "Acme Analytics",
                "COMPANY_PAGE",
                "ACTIVE",
                "https://www.linkedin.com/company/acme-analytics",
                True,
            ),
            (
                "Jonas Weber",
                "PERSONAL_BRAND",
                "ACTIVE",
                "https://www.linkedin.com/in/jonas-weber",
                False,
            ),
        ]
        self.projects: dict[str, Project] = {}
        for i, (name, kind, status, url, connected) in enumerate(seeded, start=1):
            pid = f"proj_01JSANDBOXPROJ{i:012d}"
            self.projects[pid] = Project(
                pid, name, kind, status, url, now - 86400 * (10 - i), connected
            )
        for i in range(config.extra_projects):
            pid = f"proj_01JSANDBOXXTRA{i + 1:012d}"
            kind = "COMPANY_PAGE" if i % 2 else "PERSONAL_BRAND"
            self.projects[pid] = Project(
                pid, f"Extra project {i + 1}", kind, "ACTIVE", None, now - 3600 + i
            )
        self.posts: dict[str, Post] = {}
        self.jobs: dict[str, Job] = {}
        self.idempotency: dict[tuple[str, str], StoredResponse] = {}
        self.idempotency_locks: dict[tuple[str, str], threading.Lock] = {}
        self.request_times: deque[float] = deque()
        self.spend: dict[str, int] = {}  # UTC day -> cents reserved
        self.faults: list[Fault] = []
        self.forced_failures: list[str] = []  # error codes for the next jobs created
        self.requests: Counter[str] = Counter()
        self.replays = 0
        self.webhook_endpoints: dict[str, WebhookEndpoint] = {}
        self.events_emitted = 0
        # Called with (endpoint_id, event_id, event_type, body) for each delivery to make;
        # the Sandbox points it at its webhook dispatcher. Called under self.lock.
        self.deliver: Callable[[str, str, str, bytes], None] | None = None
        self.uploads = UploadStore(config.upload_dir)
        self.source_store = SourceStore()

    # ids -----------------------------------------------------------------------------------
    def short_id(self, prefix: str) -> str:
        with self.lock:
            while True:
                candidate = prefix + "".join(self.rng.choice(ALPHANUM) for _ in range(16))
                # A state file may hold ids the seeded generator would produce again.
                if not (
                    candidate in self.posts
                    or candidate in self.jobs
                    or candidate in self.source_store.jobs
                    or candidate in self.webhook_endpoints
                    or (
                        prefix == "kb_"
                        and any(j.document_id == candidate for j in self.jobs.values())
                    )
                ):
                    return candidate

    def ulid(self, prefix: str) -> str:
        with self.lock:
            return prefix + "".join(self.rng.choice(CROCKFORD) for _ in range(26))

    # auth ------------------------------------------------------------------------------------
    def authenticate(self, secret: str) -> ApiKey | str:
        """The key, or the error code that refuses it."""
        with self.lock:
            if secret in self.config.revoked_keys:
                return "key_revoked"
            if secret in self.config.expired_keys:
                return "key_expired"
            key = self.keys.get(secret)
            return key if key else "invalid_token"

    def revoke(self, secret: str) -> None:
        with self.lock:
            self.config.revoked_keys.add(secret)

    # rate limit ------------------------------------------------------------------------------
    def take_rate_slot(self) -> tuple[bool, int, int, int]:
        """(allowed, limit, remaining, reset_seconds) over a sliding 60-second window."""
        with self.lock:
            now = self.clock()
            while self.request_times and self.request_times[0] <= now - 60:
                self.request_times.popleft()
            limit = self.config.rate_limit
            allowed = len(self.request_times) < limit
            if allowed:
                self.request_times.append(now)
            remaining = max(0, limit - len(self.request_times))
            oldest = self.request_times[0] if self.request_times else now
            reset = max(1, int(oldest + 60 - now + 0.999))
            return allowed, limit, remaining, reset

    # spend cap -------------------------------------------------------------------------------
    def reserve_spend(self, cents: int = GENERATION_COST_CENTS) -> dict | None:
        """Reserves one job's cost (a generation's by default); returns the 402 meta when the
        cap is reached."""
        with self.lock:
            day = datetime.fromtimestamp(self.clock(), UTC).strftime("%Y-%m-%d")
            spent = self.spend.get(day, 0)
            cap = self.config.spend_cap * GENERATION_COST_CENTS
            if spent + cents > cap:
                return {
                    "bucketDate": day,
                    "capCents": cap,
                    "spentCents": spent,
                    "estimateCents": cents,
                }
            self.spend[day] = spent + cents
            return None

    def refund_spend(self, ts: float, cents: int = GENERATION_COST_CENTS) -> None:
        with self.lock:
            day = datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d")
            self.spend[day] = max(0, self.spend.get(day, 0) - cents)

    # faults ----------------------------------------------------------------------------------
    def take_fault(self, route: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.remaining > 0 and fault.route in (route, "*"):
                    fault.remaining -= 1
                    return fault
            self.faults = [f for f in self.faults if f.remaining > 0]
            return None

    # jobs ------------------------------------------------------------------------------------
    def create_job(
        self, project: Project, text: str, language: str | None, scheduled_for: float | None
    ) -> Job:
        with self.lock:
            now = self.clock()
            low, high = self.config.generation_seconds
            duration = self.rng.uniform(low, high)
            failure = None
            if self.forced_failures:
                code = self.forced_failures.pop(0)
                failure = next((f for f in FAILURES if f[0] == code), (code, "The job failed."))
            elif FAIL_MARKER in text:
                code = (
                    text.split(FAIL_MARKER, 1)[1].lstrip("=").split("]", 1)[0] or "provider_error"
                )
                failure = next((f for f in FAILURES if f[0] == code), (code, "The job failed."))
            elif self.rng.random() < self.config.failure_rate:
                failure = self.rng.choice(FAILURES)
            job = Job(
                id=self.short_id("job_"),
                project_id=project.id,
                source_text=text,
                language=language,
                scheduled_for=scheduled_for,
                created=now,
                pickup_at=now + self.config.queue_seconds,
                finish_at=now + self.config.queue_seconds + duration,
                failure=failure,
            )
            self.jobs[job.id] = job
            return job

    def estimated_completion_ms(self, job: Job | None = None, now: float | None = None) -> int:
        low, high = self.config.generation_seconds
        if job is not None and job.type != GENERATION:
            low, high = self.config.knowledge_seconds
        total = self.config.queue_seconds + (low + high) / 2
        if self.config.estimate_reading == "remaining" and job is not None and now is not None:
            return int(max(0.0, total - (now - job.created)) * 1000)
        return int(total * 1000)

    def job_json(self, job: Job) -> dict:
        with self.lock:
            now = self.clock()
            status = job.status_at(now)
            knowledge = job.type != GENERATION
            if status == "DONE" and knowledge and job.document_id is None:
                job.document_id = self.short_id("kb_")
            elif status == "DONE" and not knowledge and job.post_id is None:
                self._write_post(job)
            progress = None
            if not self.config.progress:
                pass
            elif status == "RUNNING":
                fraction = (now - job.pickup_at) / (job.finish_at - job.pickup_at)
                fraction = round(min(0.99, max(0.01, fraction)), 2)
                messages = KNOWLEDGE_PROGRESS_MESSAGES if knowledge else PROGRESS_MESSAGES
                message = next(m for limit, m in messages if fraction < limit)
                progress = {"progress": fraction, "updatedAt": iso(now), "message": message}
            elif status == "DONE":
                progress = {"progress": 1.0, "updatedAt": iso(job.finish_at), "message": "Done"}
            finished = status in ("DONE", "FAILED")
            updated_at = {
                "QUEUED": job.created,
                "RUNNING": now,
                "DONE": job.finish_at,
                "FAILED": job.finish_at,
                "CANCELLED": job.cancelled_at,
            }[status]
            snapshot = {
                "id": job.id,
                "type": job.type,
                "status": status,
                "projectId": job.project_id,
                "startedAt": iso(job.pickup_at) if status not in ("QUEUED", "CANCELLED") else None,
                "completedAt": iso(job.finish_at) if finished else iso(job.cancelled_at),
                "progress": progress,
                "result": (
                    None
                    if status != "DONE"
                    else {"documentId": job.document_id}
                    if knowledge
                    else {"postId": job.post_id}
                ),
                "errorCode": job.failure[0] if status == "FAILED" and job.failure else None,
                "errorMessage": job.failure[1] if status == "FAILED" and job.failure else None,
                "attemptCount": 0 if status in ("QUEUED", "CANCELLED") else 1,
                "estimatedCompletionMs": self.estimated_completion_ms(job, now),
                "createdAt": iso(job.created),
                "updatedAt": iso(updated_at),
            }
            if status in ("DONE", "FAILED") and not job.announced:
                job.announced = True
                if job.post_id in self.posts:
                    post = self.posts[job.post_id]
                    self.emit("post.created", post.as_json(), post.project_id)
                    if post.status == "scheduled":
                        self.emit("post.scheduled", post.as_json(), post.project_id)
                event = "job.completed" if status == "DONE" else "job.failed"
                self.emit(event, snapshot, job.project_id)
                if knowledge and status == "DONE":
                    self.emit("knowledge.indexed", self.document_json(job), job.project_id)
            return snapshot

    def document_json(self, job: Job) -> dict:
        """An indexed knowledge-base document, as `knowledge.indexed` carries it. The contract
        shows no document object: the sandbox's has the ingest job's id, so a receiver can
        tell which of its requests it answers."""
        return {
            "id": job.document_id,
            "object": "knowledge_document",
            "type": job.type.removeprefix("KB_INGEST_").lower(),
            "name": job.document_name,
            "projectId": job.project_id,
            "jobId": job.id,
            "status": "indexed",
            "createdAt": iso(job.finish_at),
        }

    def _write_post(self, job: Job) -> None:
        project = self.projects[job.project_id]
        title, content = write_post(
            job.source_text, language=job.language, project_name=project.name
        )
        scheduled = (
            job.scheduled_for if job.scheduled_for and job.scheduled_for > job.finish_at else None
        )
        post = Post(
            id=self.short_id("post_"),
            project_id=job.project_id,
            title=title,
            content=content,
            status="scheduled" if scheduled else "draft",
            content_type="PERSONAL" if project.type == "PERSONAL_BRAND" else "BUSINESS_EXTERNAL",
            created=job.finish_at,
            updated=job.finish_at,
            scheduled_at=scheduled,
        )
        self.posts[post.id] = post
        job.post_id = post.id

    def cancel_job(self, job: Job) -> str | None:
        """Cancels a QUEUED job; returns the status that prevents it otherwise."""
        with self.lock:
            now = self.clock()
            status = job.status_at(now)
            if status != "QUEUED":
                return status
            job.cancelled_at = now
            self.refund_spend(job.created, job.cost_cents)
            return None

    def settle_all(self) -> None:
        """Brings the state up to the clock: writes and announces every finished job's post,
        and publishes the scheduled posts whose time has come."""
        with self.lock:
            now = self.clock()
            for job in list(self.jobs.values()):
                if not job.announced and job.status_at(now) in ("DONE", "FAILED"):
                    self.job_json(job)
            self.source_store.settle(self, now)
            for post in list(self.posts.values()):
                if (
                    post.status == "scheduled"
                    and post.scheduled_at is not None
                    and post.scheduled_at <= now
                    and post.publish_error is None
                ):
                    self._publish(post)

    # publishing ----------------------------------------------------------------------------
    def _publish(self, post: Post) -> None:
        """Publishes a due post at its scheduledAt, or records why it could not be."""
        at = post.scheduled_at
        project = self.projects.get(post.project_id)
        code = post.fail_next_publish
        post.fail_next_publish = None
        if code is None and (project is None or not project.linkedin_connected):
            code = "linkedin_not_connected"
        if code is not None:
            message = PUBLISH_FAILURES.get(code, "The post could not be published.")
            post.publish_error = {"code": code, "message": message, "failedAt": iso(at)}
            return
        post.status = "published"
        post.published_at = at
        # A time set in the past publishes at once: updatedAt never goes back, or clients
        # that order copies by it would take the publish for old news.
        post.updated = max(at, post.updated)
        self.emit("post.updated", post.as_json(), post.project_id)

    def fail_next_publish(self, post: Post, code: str) -> None:
        with self.lock:
            post.fail_next_publish = code

    # post edits ----------------------------------------------------------------------------
    def edit_post(
        self,
        post: Post,
        *,
        title: str | _Unchanged = UNCHANGED,
        content: str | _Unchanged = UNCHANGED,
        scheduled_at: float | _Unchanged | None = UNCHANGED,
    ) -> None:
        """One edit, through the API or "the dashboard": sets what was given and emits
        `post.updated`, plus `post.scheduled` when it got a (new) time and `post.unscheduled`
        when a scheduled post lost its time. `scheduled_at=None` unschedules (back to draft)."""
        with self.lock:
            was_scheduled = post.status == "scheduled"
            before = post.scheduled_at
            if not isinstance(title, _Unchanged):
                post.title = title
            if not isinstance(content, _Unchanged):
                post.content = content
            events = ["post.updated"]
            if not isinstance(scheduled_at, _Unchanged):
                post.publish_error = None
                if scheduled_at is None:
                    post.scheduled_at = None
                    post.status = "draft"
                    if was_scheduled:
                        events.append("post.unscheduled")
                else:
                    post.scheduled_at = scheduled_at
                    post.status = "scheduled"
                    if not was_scheduled or before != scheduled_at:
                        events.append("post.scheduled")
            post.updated = self.clock()
            for event in events:
                self.emit(event, post.as_json(), post.project_id)

    def delete_post(self, post: Post) -> None:
        """Gone, as when deleted in the dashboard. The contract names no event for it."""
        with self.lock:
            self.posts.pop(post.id, None)

    # webhooks ------------------------------------------------------------------------------
    def emit(self, event_type: str, obj: dict, project_id: str | None) -> None:
        """Queues one event for every active endpoint that subscribed to it (and, when the
        endpoint is tied to a project, only for that project's objects)."""
        with self.lock:
            endpoints = self.webhook_endpoints.values()
            targets = [e for e in endpoints if e.wants(event_type, project_id)]
            if not targets:
                return
            self.events_emitted += 1
            event_id = unique_id("evt_")
            body = json.dumps(
                {
                    "id": event_id,
                    "type": event_type,
                    "createdAt": iso(self.clock()),
                    "workspaceId": self.workspace["id"],
                    "data": obj if self.config.webhook_envelope == "bare" else {"object": obj},
                },
                separators=(",", ":"),
            ).encode()
            for endpoint in targets:
                if self.deliver is not None:
                    self.deliver(endpoint.id, event_id, event_type, body)

    @staticmethod
    def new_secret() -> str:
        return "whsec_" + secrets.token_hex(32)

    def create_endpoint(
        self, *, url: str, name: str, events: list[str], project_id: str | None
    ) -> WebhookEndpoint:
        with self.lock:
            now = self.clock()
            endpoint = WebhookEndpoint(
                id=self.short_id("whe_"),
                url=url,
                name=name,
                events=events,
                project_id=project_id,
                secret=self.new_secret(),
                created=now,
                updated=now,
            )
            self.webhook_endpoints[endpoint.id] = endpoint
            return endpoint

    def rotate_secret(self, endpoint: WebhookEndpoint) -> None:
        with self.lock:
            endpoint.secret = self.new_secret()
            endpoint.updated = self.clock()

    def stats(self) -> dict:
        with self.lock:
            self.settle_all()
            now = self.clock()
            by_status = Counter(job.status_at(now) for job in self.jobs.values())
            return {
                "requests": dict(sorted(self.requests.items())),
                "requestsTotal": sum(self.requests.values()),
                "jobsCreated": len(self.jobs),
                "jobs": {
                    s: by_status.get(s, 0)
                    for s in ("QUEUED", "RUNNING", "DONE", "FAILED", "CANCELLED")
                },
                "posts": len(self.posts),
                "idempotentReplays": self.replays,
                "webhookEndpoints": len(self.webhook_endpoints),
                "eventsEmitted": self.events_emitted,
                "spendCents": dict(self.spend),
                "uploads": len(self.uploads.by_id),
                "uploadsComplete": sum(u.complete for u in self.uploads.by_id.values()),
                "sourceJobs": len(self.source_store.jobs),
                "sources": len(self.source_store.sources),
            }
