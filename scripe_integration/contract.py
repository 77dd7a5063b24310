"""Scripe's API contract as Python: its limits and id formats, its error, the typed objects its
answers become (each `from_api` refuses an answer of another shape), and the checks that
refuse input Scripe would refuse, before anything is sent. No HTTP here: `client.py` speaks
it."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from scripe_integration.pacing import seconds_on_hold

API_VERSION: Final = "2026-08-01"


SOURCE_TEXT_MAX_CHARS: Final = 100_000


POST_CONTENT_MAX_CHARS: Final = 100_000


POST_TITLE_MAX_CHARS: Final = 500


MAX_WAIT_FOR_COMPLETION_MS: Final = 25_000


PAGE_SIZE: Final = 200


IDEMPOTENCY_KEY_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


PROJECT_ID_RE = re.compile(r"^proj_[A-Za-z0-9_-]{1,64}$")


JOB_ID_RE = re.compile(r"^job_[A-Za-z0-9_-]{1,64}$")


POST_ID_RE = re.compile(r"^post_[A-Za-z0-9_-]{1,64}$")


KNOWLEDGE_DOCUMENT_ID_RE = re.compile(r"^kb_[A-Za-z0-9_-]{1,64}$")


# `POST /v1/knowledge` (§8.10): each document type and the job type that ingests it.
KNOWLEDGE_JOB_TYPES: Final = {
    "text": "KB_INGEST_TEXT",
    "url": "KB_INGEST_URL",
    "youtube": "KB_INGEST_YOUTUBE",
    "file": "KB_INGEST_FILE",
}


# The contract names no cap for a knowledge text; the API edge takes 256 KB with an
# Idempotency-Key, and a generation's source text is capped at this.
KNOWLEDGE_TEXT_MAX_CHARS: Final = 100_000


KNOWLEDGE_URL_MAX_CHARS: Final = 2048


YOUTUBE_VIDEO_RE = re.compile(
    r"^https?://(www\.|m\.)?(youtube\.com/(watch\?(.*&)?v=|shorts/|embed/)|youtu\.be/)"
    r"[A-Za-z0-9_-]{6,}"
)


WEBHOOK_ENDPOINT_ID_RE = re.compile(r"^whe_[A-Za-z0-9_-]{1,64}$")


SOURCE_ID_RE = re.compile(r"^src_[A-Za-z0-9_-]{1,64}$")


UPLOAD_ID_RE = re.compile(r"^upl_[A-Za-z0-9_-]{1,128}$")


# Text sources (`POST /v1/sources` with `type: "text"`) are capped at 1 MB.
TEXT_SOURCE_MAX_BYTES: Final = 1024 * 1024


MB: Final = 1024 * 1024

# What `POST /v1/uploads` takes (§8.9), with each kind's cap. Office documents share the PDF
# cap (the contract names PDF's only).
OFFICE_CONTENT_TYPES: Final = frozenset(
    {
        "application/msword",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.ms-powerpoint",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "application/vnd.ms-excel",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    }
)


def upload_cap(content_type: str) -> int | None:
    """Scripe's size cap for an upload of this content type; None: Scripe refuses the type."""
    kind, _, rest = content_type.partition("/")
    if kind in ("audio", "video") and rest:
        return 500 * MB
    if content_type == "application/pdf" or content_type in OFFICE_CONTENT_TYPES:
        return 100 * MB
    if kind == "image" and rest:
        return 25 * MB
    if content_type == "text/plain":
        return 25 * MB
    return None


WEBHOOK_NAME_MAX_CHARS: Final = 128


WEBHOOK_URL_MAX_CHARS: Final = 1024


# The contract's closed list; Scripe answers 400 to any other name.
WEBHOOK_EVENTS: Final = frozenset(
    {
        "note.created",
        "post.created",
        "post.updated",
        "post.scheduled",
        "post.unscheduled",
        "source.created",
        "job.completed",
        "job.failed",
        "knowledge.indexed",
    }
)


RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})


TERMINAL_JOB_STATUSES = frozenset({"DONE", "FAILED", "CANCELLED"})


INACTIVE_PROJECT_STATUSES = frozenset({"PAUSED", "ARCHIVED", "ERROR"})


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


UNSET: Final = _Unset()


def gettext_noop(message: str) -> str:
    """Marks a sentence a person may read for the catalogues (makemessages finds it by this
    name) without this module importing Django; whoever shows it translates it."""
    return message


class ScripeInputError(ValueError):
    """Input Scripe would refuse; raised before any request is sent."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(message)
        self.field = field_name
        self.message = message


class ScripeError(Exception):
    """A refused or failed call: Scripe's error envelope, a timeout, or a connection error.

    `code` is Scripe's error code (`rate_limited`, `key_revoked`, …) or, for failures that
    never got an envelope, `timeout`, `connection_error` (never reached Scripe),
    `connection_lost` (broke after sending: Scripe may have acted) or `http_<status>`.
    """

    def __init__(
        self,
        *,
        code: str,
        message: str,
        http_status: int | None = None,
        request_id: str | None = None,
        retryable: bool = False,
        retry_after: float | None = None,
        details: dict | None = None,
        meta: dict | None = None,
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.http_status = http_status
        self.request_id = request_id
        self.retryable = retryable
        self.retry_after = retry_after
        self.details = details or {}
        self.meta = meta or {}

    def __repr__(self) -> str:
        return (
            f"ScripeError(code={self.code!r}, http_status={self.http_status}, "
            f"request_id={self.request_id!r}, retryable={self.retryable})"
        )


def parses(from_api):
    """Wraps a `from_api`: an answer of another shape than the contract's is a ScripeError
    (`invalid_response`) the caller already handles, not a KeyError deep in the app."""

    @functools.wraps(from_api)
    def parse(cls, data, *args, **kwargs):
        try:
            return from_api(cls, data, *args, **kwargs)
        except (KeyError, IndexError, TypeError, ValueError, AttributeError) as error:
            raise ScripeError(
                code="invalid_response",
                message=f"Scripe's answer does not have the shape of a {cls.__name__.lower()} "
                f"({error.__class__.__name__}: {error}).",
                retryable=True,
            ) from None

    return parse


def parse_timestamp(value: Any) -> datetime | None:
    """Scripe sends ISO 8601 in UTC with or without milliseconds; anything else is None."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def format_timestamp(value: datetime) -> str:
    """One fixed form (UTC, milliseconds, Z), so a retried body hashes the same."""
    utc = value.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def int_or_none(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@dataclass(frozen=True)
class Workspace:
    id: str
    name: str | None
    plan: str
    principal_id: str | None
    scopes: tuple[str, ...]
    features: dict[str, Any] = field(default_factory=dict)

    @classmethod
    @parses
    def from_api(cls, body: dict) -> Workspace:
        ws, principal = body.get("workspace") or {}, body.get("principal") or {}
        return cls(
            id=ws["id"],
            name=ws.get("name"),
            plan=ws.get("plan") or "UNKNOWN",
            principal_id=principal.get("id"),
            scopes=tuple(principal.get("scopes") or ()),
            features=dict(ws.get("features") or {}),
        )


@dataclass(frozen=True)
class AuthHealth:
    status: str
    version: str | None
    workspace_id: str | None
    principal_id: str | None
    scopes: tuple[str, ...]

    @classmethod
    @parses
    def from_api(cls, body: dict) -> AuthHealth:
        principal = body.get("principal") or {}
        return cls(
            status=body.get("status", ""),
            version=body.get("version"),
            workspace_id=(body.get("workspace") or {}).get("id"),
            principal_id=principal.get("id"),
            scopes=tuple(principal.get("scopes") or ()),
        )


@dataclass(frozen=True)
class Project:
    id: str
    name: str
    type: str
    status: str
    url: str | None
    created_at: datetime | None

    @property
    def is_active(self) -> bool:
        # Scripe asks clients to treat unknown statuses as ACTIVE.
        return self.status not in INACTIVE_PROJECT_STATUSES

    @classmethod
    @parses
    def from_api(cls, data: dict) -> Project:
        return cls(
            id=data["id"],
            name=data.get("name") or "",
            type=data.get("type") or "UNKNOWN",
            status=data.get("status") or "ACTIVE",
            url=data.get("url"),
            created_at=parse_timestamp(data.get("createdAt")),
        )


@dataclass(frozen=True)
class Job:
    id: str
    type: str
    status: str
    project_id: str | None
    progress: float | None
    progress_message: str | None
    post_id: str | None
    error_code: str | None
    error_message: str | None
    attempt_count: int
    estimated_completion_ms: int | None
    created_at: datetime | None
    started_at: datetime | None
    completed_at: datetime | None
    updated_at: datetime | None
    replayed: bool = False
    source_id: str | None = None  # a SOURCE_INGEST_FILE job's result
    # A knowledge-base ingest's result (`KB_INGEST_*`: `result.documentId`, `kb_…`).
    document_id: str | None = None

    @property
    def is_terminal(self) -> bool:
        # An unknown status is not terminal: keep polling rather than drop a job.
        return self.status in TERMINAL_JOB_STATUSES

    @classmethod
    @parses
    def from_api(cls, data: dict, *, replayed: bool = False) -> Job:
        progress = data.get("progress") if isinstance(data.get("progress"), dict) else {}
        result = data.get("result") if isinstance(data.get("result"), dict) else {}
        fraction = progress.get("progress")
        return cls(
            id=data["id"],
            type=data.get("type") or "UNKNOWN",
            status=data.get("status") or "UNKNOWN",
            project_id=data.get("projectId"),
            progress=float(fraction) if isinstance(fraction, int | float) else None,
            progress_message=progress.get("message"),
            post_id=result.get("postId"),
            error_code=data.get("errorCode"),
            error_message=data.get("errorMessage"),
            attempt_count=int_or_none(data.get("attemptCount")) or 0,
            estimated_completion_ms=int_or_none(data.get("estimatedCompletionMs")),
            created_at=parse_timestamp(data.get("createdAt")),
            started_at=parse_timestamp(data.get("startedAt")),
            completed_at=parse_timestamp(data.get("completedAt")),
            updated_at=parse_timestamp(data.get("updatedAt")),
            replayed=replayed,
            source_id=result.get("sourceId"),
            document_id=result.get("documentId"),
        )


@dataclass(frozen=True)
class KnowledgeDocument:
    """A knowledge-base document, as `knowledge.indexed` carries it. The contract shows no
    document object: `id` (`kb_…`) is all this relies on; `job_id` (the ingest job), when
    given, says which request it answers."""

    id: str
    job_id: str | None
    project_id: str | None
    name: str | None

    @classmethod
    @parses
    def from_api(cls, data: dict) -> KnowledgeDocument:
        job_id = data.get("jobId")
        return cls(
            id=data["id"],
            job_id=job_id if isinstance(job_id, str) else None,
            project_id=data.get("projectId"),
            name=data.get("name"),
        )


@dataclass(frozen=True)
class Post:
    id: str
    status: str
    title: str
    content: str
    project_id: str | None
    content_type: str | None
    scheduled_at: datetime | None
    created_at: datetime | None
    updated_at: datetime | None
    # Not in the contract's post object; the sandbox sends it once a post is published.
    published_at: datetime | None = None

    @classmethod
    @parses
    def from_api(cls, data: dict) -> Post:
        return cls(
            id=data["id"],
            status=data.get("status") or "UNKNOWN",
            title=data.get("title") or "",
            content=data.get("content") or "",
            project_id=data.get("projectId"),
            content_type=data.get("contentType"),
            scheduled_at=parse_timestamp(data.get("scheduledAt")),
            created_at=parse_timestamp(data.get("createdAt")),
            updated_at=parse_timestamp(data.get("updatedAt")),
            published_at=parse_timestamp(data.get("publishedAt")),
        )


@dataclass(frozen=True)
class Upload:
    """A handle from `POST /v1/uploads`: PUT the bytes to `upload_url` (no Scripe auth; bound
    to the content type and the cap), then name `id` in `POST /v1/sources`."""

    id: str
    upload_url: str
    content_type: str
    max_size_bytes: int | None
    expires_at: datetime | None

    @classmethod
    @parses
    def from_api(cls, data: dict) -> Upload:
        return cls(
            id=data["id"],
            upload_url=data["uploadUrl"],
            content_type=data.get("contentType") or "",
            max_size_bytes=int_or_none(data.get("maxSizeBytes")),
            expires_at=parse_timestamp(data.get("expiresAt")),
        )


@dataclass(frozen=True)
class Hook:
    id: str
    content: str
    post_type: str | None
    content_type: str | None


@dataclass(frozen=True)
class Topic:
    id: str
    title: str
    summary: str
    key_takeaways: tuple[str, ...]
    from_seconds: int | None
    to_seconds: int | None
    hooks: tuple[Hook, ...]


@dataclass(frozen=True)
class Source:
    """A source (a transcribed recording, a document, a text). `topics` are there when the
    answer carried them (the contract shows them on the create answer), else empty."""

    id: str
    project_id: str | None
    status: str
    name: str
    file_type: str | None
    duration_seconds: int | None
    text_preview: str
    text_preview_truncated: bool
    has_full_text: bool
    topics: tuple[Topic, ...]
    created_at: datetime | None

    @classmethod
    @parses
    def from_api(cls, data: dict) -> Source:
        topics = []
        for topic in data.get("topics") or []:
            hooks = tuple(
                Hook(
                    id=hook["id"],
                    content=hook.get("content") or "",
                    post_type=hook.get("postType"),
                    content_type=hook.get("contentType"),
                )
                for hook in topic.get("hooks") or []
            )
            topics.append(
                Topic(
                    id=topic["id"],
                    title=topic.get("title") or "",
                    summary=topic.get("summary") or "",
                    key_takeaways=tuple(str(t) for t in topic.get("keyTakeaways") or []),
                    from_seconds=int_or_none(topic.get("fromSeconds")),
                    to_seconds=int_or_none(topic.get("toSeconds")),
                    hooks=hooks,
                )
            )
        return cls(
            id=data["id"],
            project_id=data.get("projectId"),
            status=data.get("status") or "UNKNOWN",
            name=data.get("name") or "",
            file_type=data.get("fileType"),
            duration_seconds=int_or_none(data.get("durationSeconds")),
            text_preview=data.get("textPreview") or "",
            text_preview_truncated=bool(data.get("textPreviewTruncated")),
            has_full_text=bool(data.get("hasFullText")),
            topics=tuple(topics),
            created_at=parse_timestamp(data.get("createdAt")),
        )


@dataclass(frozen=True)
class PostPage:
    """One page of `GET /v1/posts`: pass `next_cursor` back for the next one."""

    posts: tuple[Post, ...]
    next_cursor: str | None
    has_more: bool


@dataclass(frozen=True)
class WebhookEndpoint:
    id: str
    url: str
    name: str
    events: tuple[str, ...]
    is_active: bool
    disabled_reason: str | None
    project_id: str | None
    secret_last4: str | None
    created_at: datetime | None
    updated_at: datetime | None
    # Only in the answers to create and rotate: the plaintext secret, shown once.
    secret: str | None = field(default=None, repr=False)

    @classmethod
    @parses
    def from_api(cls, data: dict) -> WebhookEndpoint:
        return cls(
            id=data["id"],
            url=data.get("url") or "",
            name=data.get("name") or "",
            events=tuple(data.get("events") or ()),
            is_active=bool(data.get("isActive", True)),
            disabled_reason=data.get("disabledReason"),
            project_id=data.get("projectId"),
            secret_last4=data.get("secretLast4"),
            created_at=parse_timestamp(data.get("createdAt")),
            updated_at=parse_timestamp(data.get("updatedAt")),
            secret=data.get("secret"),
        )


@dataclass(frozen=True)
class RateLimit:
    limit: int | None
    remaining: int | None
    reset_seconds: int | None
    seen_at: datetime
    # When the request this answers was sent: answers to several requests in flight are
    # ordered by that, since an answer that arrives later may have been computed earlier.
    sent_at: datetime | None = None

    @property
    def reset_at(self) -> datetime | None:
        return self.seen_at + timedelta(seconds=self.reset_seconds) if self.reset_seconds else None

    def seconds_to_wait(self, now: datetime | None = None) -> float:
        """How long to hold off before the next call so as not to meet a 429."""
        return seconds_on_hold(
            hold_until=None,
            remaining=self.remaining,
            reset_at=self.reset_at,
            now=now or datetime.now(UTC),
        )


@dataclass(frozen=True)
class Deprecation:
    """`Scripe-Deprecation: 2026-08-01; sunset=2026-12-01; replacement=2026-11-01`."""

    version: str
    sunset: str | None
    replacement: str | None
    raw: str

    @classmethod
    def parse(cls, raw: str) -> Deprecation:
        version, *pairs = [part.strip() for part in raw.split(";")]
        attrs = dict(p.split("=", 1) for p in pairs if "=" in p)
        return cls(
            version=version,
            sunset=attrs.get("sunset"),
            replacement=attrs.get("replacement"),
            raw=raw,
        )


def check_id(pattern: re.Pattern, value: str, name: str, prefix: str) -> None:
    if not isinstance(value, str) or not pattern.match(value):
        raise ScripeInputError(
            name, f"{value!r} is not a Scripe id (it should start with {prefix})."
        )


def check_idempotency_key(key: str) -> None:
    if not isinstance(key, str) or not IDEMPOTENCY_KEY_RE.match(key):
        raise ScripeInputError(
            "idempotency_key",
            "An Idempotency-Key is 1-64 letters, digits, '-' or '_' (a UUID works).",
        )


def webhook_name(name: str) -> str:
    if not isinstance(name, str) or not 1 <= len(name) <= WEBHOOK_NAME_MAX_CHARS:
        raise ScripeInputError(
            "name", f"A webhook endpoint's name has 1 to {WEBHOOK_NAME_MAX_CHARS} characters."
        )
    return name


def webhook_url(url: str) -> str:
    # Scripe decides which addresses it delivers to (HTTPS and public for the real one; the
    # sandbox also takes loopback), so only the shape is checked here.
    if (
        not isinstance(url, str)
        or len(url) > WEBHOOK_URL_MAX_CHARS
        or not re.match(r"^https?://[^/\s]+", url)
    ):
        raise ScripeInputError(
            "url", f"A webhook URL is an http(s) URL of at most {WEBHOOK_URL_MAX_CHARS} characters."
        )
    return url


def webhook_events(events: list[str]) -> list[str]:
    if isinstance(events, str) or not events:
        raise ScripeInputError("events", "Name at least one event.")
    unknown = sorted(str(e) for e in events if e not in WEBHOOK_EVENTS)
    if unknown:
        raise ScripeInputError("events", f"Unknown event(s): {', '.join(unknown)}.")
    return list(events)


def knowledge_body(kind: str, content: str, *, name: str = "") -> dict[str, Any]:
    """The `POST /v1/knowledge` body for a document of `kind` (text, url, youtube, file;
    `content` is the text, the address or the upload id). The contract hides the field
    names; these are the sandbox's (`text`, `url`, `uploadId`)."""
    if kind not in KNOWLEDGE_JOB_TYPES:
        raise ScripeInputError(
            "type", gettext_noop("A document is a text, a web page, a YouTube video or a file.")
        )
    if not isinstance(content, str) or not content.strip():
        raise ScripeInputError(kind, gettext_noop("The document is empty."))
    body: dict[str, Any] = {"type": kind}
    if kind == "text":
        if len(content) > KNOWLEDGE_TEXT_MAX_CHARS:
            raise ScripeInputError(
                "text",
                f"The text has {len(content):,} characters; Scripe takes at most "
                f"{KNOWLEDGE_TEXT_MAX_CHARS:,}.",
            )
        body["text"] = content
    elif kind == "file":
        body["uploadId"] = content
    else:
        if len(content) > KNOWLEDGE_URL_MAX_CHARS or not re.match(r"^https?://[^/\s]+", content):
            raise ScripeInputError(
                "url", gettext_noop("A web address starts with http:// or https://.")
            )
        if kind == "youtube" and not YOUTUBE_VIDEO_RE.match(content):
            raise ScripeInputError(
                "url", gettext_noop("This is not the address of a YouTube video.")
            )
        body["url"] = content
    if name:
        body["name"] = name[:200]
    return body


def future_timestamp(value: datetime) -> str:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ScripeInputError(
            "scheduled_for", "scheduledFor needs a time zone; a naive time is ambiguous."
        )
    if value <= datetime.now(UTC):
        raise ScripeInputError("scheduled_for", "scheduledFor must be in the future.")
    return format_timestamp(value)


@dataclass(frozen=True)
class DeliveryAnswer:
    """What one POST of a webhook delivery got (`client.deliver`): the status (None when
    no answer came), how long it took, the answer's first lines (capped), and, without an
    answer, why, in words. Not Scripe's: the client also sends the app's own webhooks."""

    status: int | None
    duration_ms: int
    head: str = ""
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


# OAuth 2.1 (contract §2.4) -------------------------------------------------------------------

# What the calendar asks for when it connects by OAuth: every scope a call it makes needs
# (contract §2.2; jobs:read and projects:read are inferred there, and the sandbox knows them),
# and a refresh token (offline_access), since generations run while nobody is signed in.
# Not notes:*: the calendar never calls /v1/notes, and a grant asks for no more than it uses.
OAUTH_SCOPES: Final = (
    "projects:read",  # the project mirror
    "posts:read",
    "posts:write",  # generations and edits
    "jobs:read",  # following generations and ingests
    "sources:write",  # sources and their uploads
    "knowledge:write",  # the knowledge base
    "webhooks:manage",
    "offline_access",
)
OAUTH_DISCOVERY_PATH: Final = "/.well-known/oauth-authorization-server"


def oauth_root(base_url: str) -> str:
    """The origin the OAuth server lives on, from the API's base URL: discovery is at the
    root (`https://api.scripe.io/.well-known/…`), the API under `/v1`."""
    root = base_url.rstrip("/")
    return root.removesuffix("/v1")


@dataclass(frozen=True)
class OAuthServer:
    """The authorization server's metadata (RFC 8414), the endpoints the client needs."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    registration_endpoint: str
    revocation_endpoint: str | None
    code_challenge_methods: tuple[str, ...]

    @classmethod
    @parses
    def from_api(cls, body: dict) -> OAuthServer:
        return cls(
            issuer=str(body.get("issuer") or ""),
            authorization_endpoint=str(body["authorization_endpoint"]),
            token_endpoint=str(body["token_endpoint"]),
            registration_endpoint=str(body["registration_endpoint"]),
            revocation_endpoint=body.get("revocation_endpoint") or None,
            code_challenge_methods=tuple(body.get("code_challenge_methods_supported") or ()),
        )

    @property
    def endpoints(self) -> tuple[str, ...]:
        found = (self.authorization_endpoint, self.token_endpoint, self.registration_endpoint)
        return (*found, self.revocation_endpoint) if self.revocation_endpoint else found


@dataclass(frozen=True)
class OAuthRegistration:
    """A client registered dynamically (RFC 7591). Public: no secret."""

    client_id: str
    redirect_uris: tuple[str, ...]
    scope: str

    @classmethod
    @parses
    def from_api(cls, body: dict) -> OAuthRegistration:
        client_id = body["client_id"]
        if not isinstance(client_id, str) or not client_id:
            raise ValueError("no client_id")
        return cls(
            client_id=client_id,
            redirect_uris=tuple(body.get("redirect_uris") or ()),
            scope=str(body.get("scope") or ""),
        )


@dataclass(frozen=True)
class OAuthTokens:
    """A token answer: the access token, when it expires, and the refresh token that
    replaces the one just used (rotation: the old one no longer works). Secrets: never log
    or render them (the repr hides them)."""

    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    expires_at: datetime
    scopes: tuple[str, ...]

    @classmethod
    @parses
    def from_api(cls, body: dict, *, received_at: datetime) -> OAuthTokens:
        access, refresh = body["access_token"], body["refresh_token"]
        if not (isinstance(access, str) and access and isinstance(refresh, str) and refresh):
            raise ValueError("tokens missing")
        if str(body.get("token_type", "")).lower() != "bearer":
            raise ValueError("not a bearer token")
        lifetime = float(body.get("expires_in") or 3600)
        return cls(
            access_token=access,
            refresh_token=refresh,
            expires_at=received_at + timedelta(seconds=lifetime),
            scopes=tuple(str(body.get("scope") or "").split()),
        )
