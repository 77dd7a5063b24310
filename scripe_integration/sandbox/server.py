"""The sandbox's HTTP face: Scripe's `/v1` routes, plus `/_sandbox/...` for tests and demos.

Where Scripe's documented v1 API contract leaves a question open, the sandbox picks one answer
and keeps to it: a missing `Scripe-Api-Version` means the default version; a plan without API
access gets `403 plan_not_eligible`; `limit` 201-500 is clamped to 200 and anything else out of
range is `400 bad_pagination`; `X-RateLimit-Reset` is seconds until reset and the rate-limit
headers come on every authenticated response; only 2xx responses are stored for idempotent
replay (a refused request can be corrected and sent again with the same key); a second
request with a key that is still being handled waits for the first and then replays it;
generation answers `202` (clients must accept any 2xx).

Posts and webhooks, likewise: `PATCH /v1/posts/{id}` refuses a schedule change of a published
post with `409 conflict`, and checks the LinkedIn connection only when it is given a time
(unscheduling needs none); deleting a post (dashboard only) emits no event, since the contract
names none, and the post answers `404 not_found` from then on. Publishing and how a failed
publish looks are described in `state.py`; the webhook delivery format (envelope, signature
header, retries) in `delivery.py`. Webhook endpoints: create answers `200` with the secret
(once), rotate is `POST /v1/webhook-endpoints/{id}/rotate-secret` and never replays (each call
mints a secret, whatever its `Idempotency-Key`); there is no list or delete (the contract
shows none: `PATCH` with `isActive: false` stops deliveries); a `projectId` not in the
workspace is `404 not_found`, as for generations. URLs: the contract's rule is HTTPS to a
public address, else `ssrf_blocked`, which the sandbox answers with `422`. Since a local
receiver is the point of a sandbox, `--webhook-targets loopback` (the default) also accepts
http(s) to 127.0.0.0/8, ::1 and localhost, `any` accepts every address (containers on a
private network), and `public` is the contract's rule exactly. The address is checked when the
URL is set, not pinned.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import ipaddress
import json
import logging
import re
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from scripe_integration.sandbox.delivery import WebhookDispatcher
from scripe_integration.sandbox.errors import ApiError
from scripe_integration.sandbox.knowledge import create_knowledge
from scripe_integration.sandbox.persistence import StateFile
from scripe_integration.sandbox.sources import create_source, get_source
from scripe_integration.sandbox.state import (
    ACCEPTED_VERSIONS,
    API_VERSION,
    IDEMPOTENCY_WINDOW_SECONDS,
    TERMINAL,
    UNCHANGED,
    WEBHOOK_EVENTS,
    ApiKey,
    Config,
    Fault,
    SandboxState,
    StoredResponse,
    WebhookEndpoint,
    iso,
)
from scripe_integration.sandbox.uploads import create_upload, handle_put

IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
IDEMPOTENT_BODY_CAP = 256 * 1024
EDGE_BODY_CAP = 4 * 1024 * 1024
SOURCE_TEXT_CAP = 100_000
POST_CONTENT_CAP = 100_000
POST_TITLE_CAP = 500
WEBHOOK_NAME_CAP = 128
WEBHOOK_URL_CAP = 1024
MAX_WAIT_MS = 25_000
PLANS_WITHOUT_API = frozenset({"FREE", "SOLO"})
INACTIVE_PROJECT = frozenset({"PAUSED", "ARCHIVED", "ERROR"})
POST_STATUSES = frozenset(
    {
        "waitingProcessing",
        "draft",
        "waitingApproval",
        "approved",
        "rejected",
        "scheduled",
        "published",
        "suggested",
    }
)
JOB_TYPES = frozenset(
    {
        "POST_GENERATION",
        "KB_INGEST_TEXT",
        "KB_INGEST_FILE",
        "KB_INGEST_URL",
        "KB_INGEST_YOUTUBE",
        "SOURCE_INGEST_FILE",
    }
)
JOB_STATUSES = frozenset({"QUEUED", "RUNNING", "DONE", "FAILED", "CANCELLED"})
logger = logging.getLogger("scripe_integration.sandbox")
ERROR_MESSAGES = {
    "internal_error": "An unexpected error occurred.",
    "service_unavailable": "The service is temporarily unavailable.",
    "rate_limited": "Rate limit exceeded. Retry after the time in Retry-After.",
}


@dataclass
class Request:
    state: SandboxState
    method: str
    params: dict[str, str]
    query: dict[str, list[str]]
    raw_body: bytes
    key: ApiKey | None = None
    root: str = ""  # scheme and host the request came to, for URLs the answer hands out
    _json: object = field(default=None)

    def arg(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None

    def body(self) -> dict:
        if self._json is None:
            try:
                self._json = json.loads(self.raw_body or b"{}")
            except (ValueError, UnicodeDecodeError):
                raise ApiError(400, "invalid_request", "Body is not valid JSON.") from None
        if not isinstance(self._json, dict):
            raise ApiError(400, "invalid_request", "Body must be a JSON object.")
        return self._json


Handler = Callable[[Request], tuple[int, dict]]


@dataclass
class Route:
    method: str
    template: str
    handler: Handler
    auth: bool = True
    scope: str | None = None
    idempotent: bool = True  # honours Idempotency-Key (rotate-secret does not)

    @property
    def pattern(self) -> re.Pattern:
        regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[A-Za-z0-9_-]+)", self.template)
        return re.compile(f"^{regex}$")


# helpers -------------------------------------------------------------------------------------


def parse_time(value: object, param: str) -> float:
    if not isinstance(value, str):
        raise ApiError(
            400,
            "invalid_request",
            f"'{param}' must be an ISO 8601 date-time string.",
            details={"param": param},
        )
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ApiError(
            400,
            "invalid_request",
            f"'{param}' is not a valid ISO 8601 date-time.",
            details={"param": param},
        ) from None
    if parsed.tzinfo is None:
        raise ApiError(
            400, "invalid_request", f"'{param}' must include a time zone.", details={"param": param}
        )
    return parsed.timestamp()


def parse_day(
    value: str | None, param: str, *, end: bool, allow_datetime: bool = False
) -> float | None:
    if value is None:
        return None
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        try:
            day = datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC)
        except ValueError:
            pass
        else:
            return day.timestamp() + (86400 - 0.001 if end else 0)
    elif allow_datetime:
        return parse_time(value, param)
    raise ApiError(
        400, "invalid_request", f"'{param}' must be YYYY-MM-DD.", details={"param": param}
    )


def parse_limit(req: Request) -> int:
    raw = req.arg("limit")
    if raw is None:
        return 50
    try:
        limit = int(raw)
    except ValueError:
        raise ApiError(400, "bad_pagination", f"'limit' must be an integer, got {raw!r}.") from None
    if limit < 1 or limit > 500:
        raise ApiError(400, "bad_pagination", "'limit' must be between 1 and 200.")
    return min(limit, 200)


def encode_cursor(created: float, item_id: str) -> str:
    raw = json.dumps({"v": 1, "createdAt": iso(created), "id": item_id}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def paginate(req: Request, rows: list[tuple[float, str, dict]]) -> tuple[int, dict]:
    """Keyset pagination over (createdAt DESC, id DESC) with an opaque cursor."""
    limit = parse_limit(req)
    rows = sorted(rows, key=lambda r: (iso(r[0]), r[1]), reverse=True)
    start = 0
    cursor = req.arg("cursor")
    if cursor:
        try:
            decoded = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
            key = (decoded["createdAt"], decoded["id"])
            assert decoded.get("v") == 1
        except (ValueError, KeyError, TypeError, AssertionError, binascii.Error):
            raise ApiError(400, "bad_cursor", "The cursor could not be decoded.") from None
        keys = [(iso(r[0]), r[1]) for r in rows]
        if key not in keys:
            raise ApiError(
                400, "bad_cursor", "The cursor no longer matches this list; restart without it."
            )
        start = keys.index(key) + 1
    page = rows[start : start + limit]
    has_more = start + limit < len(rows)
    next_cursor = encode_cursor(page[-1][0], page[-1][1]) if has_more and page else None
    return 200, {
        "data": [r[2] for r in page],
        "pagination": {"next_cursor": next_cursor, "has_more": has_more},
    }


def csv_filter(req: Request, name: str, allowed: frozenset[str]) -> set[str] | None:
    raw = req.arg(name)
    if not raw:
        return None
    values = {v.strip() for v in raw.split(",") if v.strip()}
    unknown = sorted(values - allowed)
    if unknown:
        raise ApiError(
            400,
            "invalid_request",
            f"Unknown '{name}' value(s): {', '.join(unknown)}.",
            details={"param": name},
        )
    return values


def project_for(req: Request, project_id: object) -> object:
    project = req.state.projects.get(project_id) if isinstance(project_id, str) else None
    if project is None:
        raise ApiError(404, "not_found", "Project not found.")
    return project


# /v1 handlers --------------------------------------------------------------------------------


def health(req: Request) -> tuple[int, dict]:
    checks = {
        "db": {"ok": True, "latencyMs": 2},
        "redis": {"ok": True, "latencyMs": 1},
        "auditBuffer": {"ok": True, "depth": 0},
    }
    return 200, {"status": "ok", "version": API_VERSION, "checks": checks}


def health_auth(req: Request) -> tuple[int, dict]:
    return 200, {
        "status": "ok",
        "version": API_VERSION,
        "workspace": {"id": req.state.workspace["id"]},
        "principal": {"id": req.key.id, "scopes": list(req.key.scopes)},
    }


def workspace_me(req: Request) -> tuple[int, dict]:
    ws = req.state.workspace
    return 200, {
        "workspace": {
            "id": ws["id"],
            "name": ws["name"],
            "plan": ws["plan"],
            "features": {"apiAccess": True, "amplifiers": False, "engagementAutomation": False},
        },
        "principal": {"type": "api_key", "id": req.key.id, "scopes": list(req.key.scopes)},
    }


def list_projects(req: Request) -> tuple[int, dict]:
    with req.state.lock:
        rows = [(p.created, p.id, p.as_json()) for p in req.state.projects.values()]
    return paginate(req, rows)


def get_project(req: Request) -> tuple[int, dict]:
    return 200, {"data": project_for(req, req.params["projectId"]).as_json()}


def list_posts(req: Request) -> tuple[int, dict]:
    project_id = req.arg("projectId")
    if not project_id:
        raise ApiError(
            400, "invalid_request", "'projectId' is required.", details={"param": "projectId"}
        )
    project_for(req, project_id)
    statuses = csv_filter(req, "status", POST_STATUSES)
    low = parse_day(req.arg("dateFrom"), "dateFrom", end=False)
    high = parse_day(req.arg("dateTo"), "dateTo", end=True)
    req.state.settle_all()
    with req.state.lock:
        rows = [
            (p.created, p.id, p.as_json())
            for p in req.state.posts.values()
            if p.project_id == project_id
            and (statuses is None or p.status in statuses)
            and (low is None or p.created >= low)
            and (high is None or p.created <= high)
        ]
    return paginate(req, rows)


def post_for(req: Request):
    req.state.settle_all()
    post = req.state.posts.get(req.params["postId"])
    if post is None:
        raise ApiError(404, "not_found", "Post not found.")
    return post


def get_post(req: Request) -> tuple[int, dict]:
    return 200, {"data": post_for(req).as_json()}


def update_post(req: Request) -> tuple[int, dict]:
    post = post_for(req)
    body = req.body()
    for name, cap in (("content", POST_CONTENT_CAP), ("title", POST_TITLE_CAP)):
        if name in body:
            if not isinstance(body[name], str):
                raise ApiError(
                    400, "invalid_request", f"'{name}' must be a string.", details={"param": name}
                )
            if len(body[name]) > cap:
                raise ApiError(
                    413, "payload_too_large", f"'{name}' is longer than {cap} characters."
                )
    state = req.state
    scheduled = UNCHANGED
    if "scheduledFor" in body:
        scheduled = None
        if body["scheduledFor"] is not None:
            scheduled = parse_time(body["scheduledFor"], "scheduledFor")
            if scheduled <= state.clock():
                raise ApiError(422, "unprocessable", "'scheduledFor' must be in the future.")
        if post.status == "published":
            raise ApiError(409, "conflict", "The post is already published; it has no schedule.")
        if scheduled is not None and not state.projects[post.project_id].linkedin_connected:
            raise ApiError(
                409,
                "conflict",
                "The project's LinkedIn connection is not live; reconnect it before scheduling.",
            )
    with state.lock:
        state.edit_post(
            post,
            title=body.get("title", UNCHANGED),
            content=body.get("content", UNCHANGED),
            scheduled_at=scheduled,
        )
        return 200, {"data": post.as_json()}


def generate_post(req: Request) -> tuple[int, dict]:
    body = req.body()
    state = req.state
    project_id = body.get("projectId")
    if not isinstance(project_id, str) or not project_id:
        raise ApiError(
            400, "invalid_request", "'projectId' is required.", details={"param": "projectId"}
        )
    source = body.get("source")
    if not isinstance(source, dict):
        raise ApiError(
            400,
            "invalid_request",
            "'source' must be an object with 'text'.",
            details={"param": "source"},
        )
    if "noteId" in source and "text" not in source:
        raise ApiError(422, "unprocessable", "The sandbox supports only source.text.")
    text = source.get("text")
    if not isinstance(text, str) or not text.strip():
        raise ApiError(
            400,
            "invalid_request",
            "'source.text' must be a non-empty string.",
            details={"param": "source.text"},
        )
    if len(text) > SOURCE_TEXT_CAP:
        raise ApiError(
            413, "payload_too_large", f"'source.text' is longer than {SOURCE_TEXT_CAP} characters."
        )
    options = body.get("options") or {}
    if not isinstance(options, dict):
        raise ApiError(
            400, "invalid_request", "'options' must be an object.", details={"param": "options"}
        )
    language = options.get("language")
    if language is not None and not isinstance(language, str):
        raise ApiError(
            400,
            "invalid_request",
            "'options.language' must be a string.",
            details={"param": "options.language"},
        )
    wait_ms = body.get("wait_for_completion_ms", 0)
    if isinstance(wait_ms, bool) or not isinstance(wait_ms, int) or wait_ms < 0:
        raise ApiError(
            400,
            "invalid_request",
            "'wait_for_completion_ms' must be a non-negative integer.",
            details={"param": "wait_for_completion_ms"},
        )
    scheduled = None
    if body.get("scheduledFor") is not None:
        scheduled = parse_time(body["scheduledFor"], "scheduledFor")
    project = project_for(req, project_id)
    if project.status in INACTIVE_PROJECT:
        raise ApiError(
            422, "unprocessable", f"Project is {project.status}; it cannot receive new posts."
        )
    if scheduled is not None and scheduled <= state.clock():
        raise ApiError(422, "unprocessable", "'scheduledFor' must be in the future.")
    over_cap = state.reserve_spend()
    if over_cap:
        raise ApiError(
            402,
            "spend_cap_exceeded",
            "Daily AI-spend cap reached; it resets at 00:00 UTC.",
            meta=over_cap,
        )
    job = state.create_job(project, text, language, scheduled)
    deadline = time.monotonic() + min(wait_ms, MAX_WAIT_MS) / 1000
    snapshot = state.job_json(job)
    while snapshot["status"] not in TERMINAL and time.monotonic() < deadline:
        time.sleep(min(0.05, max(0.0, deadline - time.monotonic())))
        snapshot = state.job_json(job)
    return 202, {"data": snapshot}


def list_jobs(req: Request) -> tuple[int, dict]:
    types = csv_filter(req, "type", JOB_TYPES)
    statuses = csv_filter(req, "status", JOB_STATUSES)
    low = parse_day(req.arg("dateFrom"), "dateFrom", end=False, allow_datetime=True)
    high = parse_day(req.arg("dateTo"), "dateTo", end=True, allow_datetime=True)
    state = req.state
    with state.lock:
        rows = []
        for job in state.jobs.values():
            snapshot = state.job_json(job)
            if (
                (types is None or snapshot["type"] in types)
                and (statuses is None or snapshot["status"] in statuses)
                and (low is None or job.created >= low)
                and (high is None or job.created <= high)
            ):
                rows.append((job.created, job.id, snapshot))
        for job in state.source_store.jobs.values():
            snapshot = state.source_store.job_json(state, job)
            if (
                (types is None or snapshot["type"] in types)
                and (statuses is None or snapshot["status"] in statuses)
                and (low is None or job.created >= low)
                and (high is None or job.created <= high)
            ):
                rows.append((job.created, job.id, snapshot))
    return paginate(req, rows)


def job_for(req: Request):
    job = req.state.jobs.get(req.params["jobId"])
    if job is None:
        raise ApiError(404, "not_found", "Job not found.")
    return job


def get_job(req: Request) -> tuple[int, dict]:
    source_job = req.state.source_store.jobs.get(req.params["jobId"])
    if source_job is not None:
        return 200, {"data": req.state.source_store.job_json(req.state, source_job)}
    return 200, {"data": req.state.job_json(job_for(req))}


def cancel_job(req: Request) -> tuple[int, dict]:
    source_job = req.state.source_store.jobs.get(req.params["jobId"])
    if source_job is not None:
        status = req.state.source_store.job_json(req.state, source_job)["status"]
        raise ApiError(
            409, "not_cancellable", f"Job is in '{status}'; a source ingest cannot be cancelled."
        )
    job = job_for(req)
    refused = req.state.cancel_job(job)
    if refused:
        raise ApiError(
            409,
            "not_cancellable",
            f"Job is in '{refused}'; only QUEUED jobs can be cancelled in v1.",
        )
    return 200, {"data": req.state.job_json(job)}


def check_webhook_url(url: object, targets: str) -> str:
    """The URL, when Scripe (as configured) would deliver to it; see the module docstring."""
    if not isinstance(url, str) or not url:
        raise ApiError(400, "invalid_request", "'url' must be a string.", details={"param": "url"})
    if len(url) > WEBHOOK_URL_CAP:
        raise ApiError(
            400,
            "invalid_request",
            f"'url' is longer than {WEBHOOK_URL_CAP} characters.",
            details={"param": "url"},
        )
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = -1
    if parts.scheme not in ("http", "https") or not parts.hostname or port == -1:
        raise ApiError(
            400, "invalid_request", "'url' must be an absolute URL.", details={"param": "url"}
        )
    try:
        infos = socket.getaddrinfo(parts.hostname, port or 443, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise ApiError(422, "unprocessable", f"'{parts.hostname}' does not resolve.") from None
    addresses = {ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos}
    if targets == "any":
        return url
    if targets == "loopback" and all(a.is_loopback for a in addresses):
        return url
    if not all(a.is_global for a in addresses):
        raise ApiError(
            422,
            "ssrf_blocked",
            "Webhook URLs must resolve to a public address (not loopback, link-local, "
            "RFC 1918 or CGNAT).",
        )
    if parts.scheme != "https":
        raise ApiError(
            400, "invalid_request", "Webhook URLs must use HTTPS.", details={"param": "url"}
        )
    return url


def webhook_fields(req: Request, body: dict, *, partial: bool) -> dict:
    """The endpoint fields of a create (every required one) or a PATCH (any of them)."""
    changes: dict = {}
    if "name" in body or not partial:
        name = body.get("name")
        if not isinstance(name, str) or not 1 <= len(name) <= WEBHOOK_NAME_CAP:
            raise ApiError(
                400,
                "invalid_request",
                f"'name' must be a string of 1 to {WEBHOOK_NAME_CAP} characters.",
                details={"param": "name"},
            )
        changes["name"] = name
    if "url" in body or not partial:
        changes["url"] = check_webhook_url(body.get("url"), req.state.config.webhook_targets)
    if "events" in body or not partial:
        events = body.get("events")
        if (
            not isinstance(events, list)
            or not events
            or not all(isinstance(e, str) for e in events)
        ):
            raise ApiError(
                400,
                "invalid_request",
                "'events' must be a non-empty list of event names.",
                details={"param": "events"},
            )
        unknown = sorted(set(events) - set(WEBHOOK_EVENTS))
        if unknown:
            raise ApiError(
                400,
                "invalid_request",
                f"Unknown event(s): {', '.join(unknown)}.",
                details={"param": "events"},
            )
        changes["events"] = list(dict.fromkeys(events))
    if "projectId" in body:
        project_id = body["projectId"]
        if project_id is not None:
            project_for(req, project_id)
        changes["project_id"] = project_id
    if partial and "isActive" in body:
        if not isinstance(body["isActive"], bool):
            raise ApiError(
                400,
                "invalid_request",
                "'isActive' must be a boolean.",
                details={"param": "isActive"},
            )
        changes["is_active"] = body["isActive"]
    return changes


def endpoint_for(req: Request) -> WebhookEndpoint:
    endpoint = req.state.webhook_endpoints.get(req.params["endpointId"])
    if endpoint is None:
        raise ApiError(404, "not_found", "Webhook endpoint not found.")
    return endpoint


def create_webhook_endpoint(req: Request) -> tuple[int, dict]:
    changes = webhook_fields(req, req.body(), partial=False)
    endpoint = req.state.create_endpoint(
        url=changes["url"],
        name=changes["name"],
        events=changes["events"],
        project_id=changes.get("project_id"),
    )
    return 200, {"data": endpoint.as_json(with_secret=True)}


def get_webhook_endpoint(req: Request) -> tuple[int, dict]:
    return 200, {"data": endpoint_for(req).as_json()}


def update_webhook_endpoint(req: Request) -> tuple[int, dict]:
    endpoint = endpoint_for(req)
    changes = webhook_fields(req, req.body(), partial=True)
    with req.state.lock:
        for name, value in changes.items():
            setattr(endpoint, name, value)
        if changes.get("is_active"):
            endpoint.disabled_reason = None
        endpoint.updated = req.state.clock()
        return 200, {"data": endpoint.as_json()}


def rotate_webhook_secret(req: Request) -> tuple[int, dict]:
    endpoint = endpoint_for(req)
    req.state.rotate_secret(endpoint)
    return 200, {"data": endpoint.as_json(with_secret=True)}


ROUTES = [
    Route("GET", "/v1/health", health, auth=False),
    Route("GET", "/v1/health/auth", health_auth),
    Route("GET", "/v1/workspaces/me", workspace_me),
    Route("GET", "/v1/projects", list_projects),
    Route("GET", "/v1/projects/{projectId}", get_project),
    Route("POST", "/v1/posts/generations", generate_post, scope="posts:write"),
    Route("GET", "/v1/posts", list_posts, scope="posts:read"),
    Route("GET", "/v1/posts/{postId}", get_post, scope="posts:read"),
    Route("PATCH", "/v1/posts/{postId}", update_post, scope="posts:write"),
    Route("POST", "/v1/uploads", create_upload, scope="sources:write"),
    Route("POST", "/v1/sources", create_source, scope="sources:write"),
    Route("GET", "/v1/sources/{sourceId}", get_source),
    Route("POST", "/v1/knowledge", create_knowledge, scope="knowledge:write"),
    Route("GET", "/v1/jobs", list_jobs),
    Route("GET", "/v1/jobs/{jobId}", get_job),
    Route("POST", "/v1/jobs/{jobId}/cancel", cancel_job),
    Route("POST", "/v1/webhook-endpoints", create_webhook_endpoint, scope="webhooks:manage"),
    Route(
        "GET",
        "/v1/webhook-endpoints/{endpointId}",
        get_webhook_endpoint,
        scope="webhooks:manage",
    ),
    Route(
        "PATCH",
        "/v1/webhook-endpoints/{endpointId}",
        update_webhook_endpoint,
        scope="webhooks:manage",
    ),
    Route(
        "POST",
        "/v1/webhook-endpoints/{endpointId}/rotate-secret",
        rotate_webhook_secret,
        scope="webhooks:manage",
        idempotent=False,
    ),
]
COMPILED = [(route, route.pattern) for route in ROUTES]


def match(method: str, path: str) -> tuple[Route | None, dict, bool]:
    """(route, path params, whether the path exists under another method)."""
    other_method = False
    for route, pattern in COMPILED:
        found = pattern.match(path)
        if found:
            if route.method == method:
                return route, found.groupdict(), False
            other_method = True
    return None, {}, other_method


# the request handler ---------------------------------------------------------------------------


class SandboxRequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "ScripeSandbox/1"
    # Headers and body go out in two writes; without this, Nagle and delayed ACKs add ~40 ms.
    disable_nagle_algorithm = True
    server: SandboxServer

    def do_GET(self) -> None:
        self.dispatch("GET")

    def do_POST(self) -> None:
        self.dispatch("POST")

    def do_PATCH(self) -> None:
        self.dispatch("PATCH")

    def do_DELETE(self) -> None:
        self.dispatch("DELETE")

    def do_PUT(self) -> None:
        self.dispatch("PUT")

    def log_message(self, format: str, *args) -> None:
        if not self.server.quiet:
            super().log_message(format, *args)

    def send_json(self, status: int, payload: dict | bytes, headers: dict) -> None:
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name, str(value))
        self.end_headers()
        self.wfile.write(body)

    def read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        if length > EDGE_BODY_CAP:
            self.rfile.read(length)
            raise ApiError(413, "payload_too_large", "Request body is larger than 4 MB.")
        return self.rfile.read(length) if length else b""

    def dispatch(self, method: str) -> None:
        state = self.server.state
        url = urlsplit(self.path)
        if url.path.startswith("/_sandbox/"):
            self.control(method, url.path)
            return
        if method == "PUT" and url.path.startswith("/_uploads/"):
            handle_put(self, url.path.removeprefix("/_uploads/"))  # streamed, never buffered
            return
        headers: dict[str, str] = {"X-Request-Id": state.ulid("req_")}
        route, params, other_method = match(method, url.path)
        with state.lock:
            state.requests[f"{method} {route.template if route else url.path}"] += 1
        try:
            raw = self.read_body()
            if route is None:
                if other_method:
                    raise ApiError(
                        405, "invalid_request", f"{method} is not allowed on {url.path}."
                    )
                raise ApiError(404, "not_found", f"No route for {method} {url.path}.")
            self.apply_fault(state.take_fault(f"{method} {route.template}"))
            version = self.headers.get("Scripe-Api-Version") or API_VERSION
            if version not in ACCEPTED_VERSIONS:
                raise ApiError(
                    400,
                    "version_unsupported",
                    f"Scripe-Api-Version '{version}' is not supported.",
                    details={"accepted": list(ACCEPTED_VERSIONS)},
                )
            headers["Scripe-Api-Version"] = version
            if state.config.deprecation:
                headers["Scripe-Deprecation"] = state.config.deprecation
            req = Request(state, method, params, parse_qs(url.query, keep_blank_values=True), raw)
            req.root = f"http://{self.headers.get('Host') or '127.0.0.1'}"
            if route.auth:
                req.key = self.authorize(route, headers)
            else:
                headers["Cache-Control"] = "max-age=5, public"
            key = self.headers.get("Idempotency-Key")
            if (
                method in ("POST", "PATCH")
                and route.idempotent
                and key
                and IDEMPOTENCY_KEY.match(key)
            ):
                status, payload = self.idempotent(route, req, key, headers)
            else:
                status, payload = route.handler(req)
        except ApiError as error:
            headers.update(error.headers)
            status, payload = error.status, self.envelope(error, headers["X-Request-Id"])
        self.send_json(status, payload, headers)

    def apply_fault(self, fault: Fault | None) -> None:
        if fault is None:
            return
        if fault.hang_seconds:
            time.sleep(fault.hang_seconds)
        if fault.status:
            code = fault.code or {429: "rate_limited", 500: "internal_error"}.get(
                fault.status, "service_unavailable"
            )
            headers = (
                {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
            )
            message = fault.message or ERROR_MESSAGES.get(code, f"Injected fault: {code}.")
            raise ApiError(fault.status, code, message, headers=headers)

    def authorize(self, route: Route, headers: dict) -> ApiKey:
        state = self.server.state
        auth = self.headers.get("Authorization", "")
        if not auth.startswith("Bearer ") or not auth[7:].strip():
            raise ApiError(401, "invalid_token", "Missing or malformed bearer token.")
        key = state.authenticate(auth[7:].strip())
        if isinstance(key, str):
            messages = {
                "invalid_token": "The API key is not valid.",
                "key_revoked": "The API key was revoked. Mint a new key in Settings → Developer.",
                "key_expired": "The API key has expired. Extend it or mint a new key.",
            }
            raise ApiError(401, key, messages[key])
        if state.workspace["plan"] in PLANS_WITHOUT_API:
            raise ApiError(
                403,
                "plan_not_eligible",
                "This workspace's plan has no API access; upgrade to Advanced or Business.",
            )
        allowed, limit, remaining, reset = state.take_rate_slot()
        headers.update(
            {
                "X-RateLimit-Limit": str(limit),
                "X-RateLimit-Remaining": str(remaining),
                "X-RateLimit-Reset": str(reset),
            }
        )
        if not allowed:
            raise ApiError(
                429,
                "rate_limited",
                ERROR_MESSAGES["rate_limited"],
                headers={"Retry-After": str(reset)},
            )
        if route.scope and route.scope not in key.scopes:
            raise ApiError(
                403,
                "scope_missing",
                f"Token lacks the required scope. Need one of: {route.scope}.",
                details={"required": [route.scope]},
            )
        return key

    def idempotent(
        self, route: Route, req: Request, key: str, headers: dict
    ) -> tuple[int, dict | bytes]:
        state = self.server.state
        # Text sources keep their own, larger cap (§7): 1 MB of text plus the JSON around it.
        cap = 2 * 1024 * 1024 if route.template == "/v1/sources" else IDEMPOTENT_BODY_CAP
        if len(req.raw_body) > cap:
            raise ApiError(
                413,
                "payload_too_large",
                "Bodies sent with an Idempotency-Key are capped at 256 KB.",
            )
        try:
            canonical = json.dumps(
                json.loads(req.raw_body or b"{}"),
                sort_keys=True,
                separators=(",", ":"),
                ensure_ascii=False,
            ).encode()
        except (ValueError, UnicodeDecodeError):
            canonical = req.raw_body
        body_hash = hashlib.sha256(canonical).hexdigest()
        # One workspace per sandbox, so (route, key) is the documented (workspace, route, key).
        slot = (f"{route.method} {route.template}", key)
        with state.lock:
            lock = state.idempotency_locks.setdefault(slot, threading.Lock())
        with lock:
            with state.lock:
                stored = state.idempotency.get(slot)
                if stored and state.clock() - stored.stored_at > IDEMPOTENCY_WINDOW_SECONDS:
                    stored = None
                if stored:
                    if stored.body_hash != body_hash:
                        raise ApiError(
                            409,
                            "idempotency_key_conflict",
                            "This Idempotency-Key was used with a different body within 24 h.",
                        )
                    state.replays += 1
                    headers["Idempotent-Replayed"] = "true"
                    return stored.status, stored.body
            status, payload = route.handler(req)
            body = json.dumps(payload).encode()
            if 200 <= status < 300:
                with state.lock:
                    state.idempotency[slot] = StoredResponse(body_hash, status, body, state.clock())
            headers["Idempotent-Replayed"] = "false"
            return status, body

    @staticmethod
    def envelope(error: ApiError, request_id: str) -> dict:
        inner = {
            "code": error.code,
            "message": error.message,
            "request_id": request_id,
            "docs_url": f"https://docs.scripe.io/api/v1/errors#{error.code}",
        }
        if error.details:
            inner["details"] = error.details
        if error.meta:
            inner["meta"] = error.meta
        return {"error": inner}

    # the control surface -------------------------------------------------------------------
    def control(self, method: str, path: str) -> None:
        state = self.server.state
        try:
            raw = self.read_body()
            data = json.loads(raw) if raw else {}
        except (ApiError, ValueError):
            self.send_json(400, {"error": "body must be JSON"}, {})
            return
        if (method, path) == ("GET", "/_sandbox/stats"):
            self.send_json(200, state.stats(), {})
        elif (method, path) == ("POST", "/_sandbox/faults"):
            fault = Fault(
                route=data.get("route", "*"),
                remaining=int(data.get("count", 1)),
                status=data.get("status"),
                code=data.get("code"),
                message=data.get("message"),
                retry_after=data.get("retryAfter"),
                hang_seconds=float(data.get("hangSeconds", 0)),
            )
            with state.lock:
                state.faults.append(fault)
            self.send_json(201, {"data": fault.__dict__}, {})
        elif (method, path) == ("DELETE", "/_sandbox/faults"):
            with state.lock:
                state.faults.clear()
            self.send_json(200, {"data": []}, {})
        elif (method, path) == ("POST", "/_sandbox/job-failures"):
            codes = [data.get("code", "provider_error")] * int(data.get("count", 1))
            with state.lock:
                state.forced_failures.extend(codes)
            self.send_json(201, {"data": {"nextJobsFail": len(state.forced_failures)}}, {})
        elif (method, path) == ("POST", "/_sandbox/keys/revoke"):
            state.revoke(data.get("key", ""))
            self.send_json(200, {"data": {"revoked": True}}, {})
        elif (method, path) == ("GET", "/_sandbox/webhook-deliveries"):
            self.send_json(200, {"data": self.server.dispatcher.listing()}, {})
        elif path.startswith("/_sandbox/posts/"):
            self.control_post(method, path.removeprefix("/_sandbox/posts/"), data)
        elif method == "PATCH" and path.startswith("/_sandbox/projects/"):
            project = state.projects.get(path.rsplit("/", 1)[1])
            if project is None:
                self.send_json(404, {"error": "no such project"}, {})
                return
            with state.lock:
                project.status = data.get("status", project.status)
                project.name = data.get("name", project.name)
                project.url = data.get("url", project.url)
                project.linkedin_connected = data.get(
                    "linkedinConnected", project.linkedin_connected
                )
            self.send_json(200, {"data": project.as_json()}, {})
        else:
            self.send_json(404, {"error": f"no control route {method} {path}"}, {})

    def control_post(self, method: str, rest: str, data: object) -> None:
        """What a person does to a post in Scripe's dashboard: edit its text or title, move
        or clear its time (no lead-time or connection check: a past time publishes on the
        next tick), delete it; or make its next publish fail."""
        state = self.server.state
        post_id, _, action = rest.partition("/")
        state.settle_all()
        post = state.posts.get(post_id)
        if post is None:
            self.send_json(404, {"error": f"no such post {post_id}"}, {})
            return
        if not isinstance(data, dict):
            self.send_json(400, {"error": "body must be a JSON object"}, {})
            return
        if (method, action) == ("PATCH", ""):
            changes = {}
            for name in ("title", "content"):
                if name in data:
                    if not isinstance(data[name], str):
                        self.send_json(400, {"error": f"{name} must be a string"}, {})
                        return
                    changes[name] = data[name]
            if "scheduledAt" in data:
                try:
                    changes["scheduled_at"] = (
                        None
                        if data["scheduledAt"] is None
                        else parse_time(data["scheduledAt"], "scheduledAt")
                    )
                except ApiError as error:
                    self.send_json(400, {"error": error.message}, {})
                    return
            state.edit_post(post, **changes)
            self.send_json(200, {"data": post.as_json()}, {})
        elif (method, action) == ("DELETE", ""):
            state.delete_post(post)
            self.send_json(200, {"data": {"id": post.id, "deleted": True}}, {})
        elif (method, action) == ("POST", "publish-failure"):
            state.fail_next_publish(post, str(data.get("code") or "linkedin_error"))
            self.send_json(200, {"data": post.as_json()}, {})
        else:
            self.send_json(404, {"error": f"no control route {method} /_sandbox/posts/{rest}"}, {})


class SandboxServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(
        self,
        address: tuple[str, int],
        state: SandboxState,
        *,
        quiet: bool,
        dispatcher: WebhookDispatcher | None = None,
    ) -> None:
        super().__init__(address, SandboxRequestHandler)
        self.state = state
        self.quiet = quiet
        self.dispatcher = dispatcher or WebhookDispatcher(state, quiet=quiet)


class Sandbox:
    """A sandbox serving from a background thread: for tests, benchmarks and demos.

    Besides the server it runs a clock thread (settles jobs, publishes due posts, writes the
    state file) and the webhook dispatcher's threads.

    >>> with Sandbox(Config(keys={"scripe_sk_test_x": ALL_SCOPES})) as sandbox:
    ...     sandbox.base_url  # 'http://127.0.0.1:<free port>/v1'
    """

    def __init__(
        self, config: Config, *, host: str = "127.0.0.1", port: int = 0, quiet: bool = True
    ) -> None:
        self.state = SandboxState(config)
        self.state_file = StateFile(config.state_file) if config.state_file else None
        if self.state_file:
            self.state_file.restore(self.state)
        self.dispatcher = WebhookDispatcher(self.state, quiet=quiet)
        self.state.deliver = self.dispatcher.enqueue
        self.server = SandboxServer(
            (host, port), self.state, quiet=quiet, dispatcher=self.dispatcher
        )
        self.thread = threading.Thread(
            # A short poll interval lets stop() return at once rather than after 0.5 s.
            target=self.server.serve_forever,
            args=(0.05,),
            name="scripe-sandbox",
            daemon=True,
        )
        self._stopping = threading.Event()
        self.clock_thread = threading.Thread(
            target=self._run_clock, name="scripe-sandbox-clock", daemon=True
        )

    @property
    def root_url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def base_url(self) -> str:
        return f"{self.root_url}/v1"

    def _run_clock(self) -> None:
        while not self._stopping.wait(self.state.config.tick_seconds):
            try:
                self.state.settle_all()
                self.save()
            except Exception:  # the clock must keep ticking; say what went wrong
                logger.exception("sandbox clock tick failed")

    def save(self) -> None:
        """Writes the state file (when there is one and the state changed)."""
        if self.state_file:
            self.state_file.save(self.state)

    def start_background(self) -> None:
        """The clock and the webhook dispatcher, without the server (the CLI serves itself)."""
        self.dispatcher.start()
        self.clock_thread.start()

    def stop_background(self) -> None:
        self._stopping.set()
        if self.clock_thread.is_alive():
            self.clock_thread.join()
        self.dispatcher.stop()
        self.save()
        self.state.uploads.close()

    def start(self) -> Sandbox:
        self.start_background()
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.stop_background()

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()
