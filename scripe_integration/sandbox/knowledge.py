"""The sandbox's knowledge base: `POST /v1/knowledge` (contract §8.10).

The contract names the four types and says the answer is a Job, but not the body's field
names. The sandbox picks: `{"type": "text", "text", "name"?}`, `{"type": "url", "url"}`,
`{"type": "youtube", "url"}` (a youtube.com or youtu.be video address) and
`{"type": "file", "uploadId"}`, each with an optional `projectId` (omitted: the whole
workspace's). Text is capped like a generation's source text. The job (`KB_INGEST_<TYPE>`)
waits `queue_seconds`, runs `knowledge_seconds`, and ends `DONE` with `result.documentId`
(`kb_…`), emitting `job.completed` and `knowledge.indexed`; it costs 1 to 3 cents by type,
reserved against the daily spend cap like a generation (a 402 when it does not fit).
`/_sandbox/job-failures` makes the next jobs fail, ingests included, with the code given;
so does `[sandbox:fail=<code>]` in a text or URL. A file's upload (`uploads.py`) must be
complete and not yet used, as for a file source.
"""

from __future__ import annotations

import re
import time
from urllib.parse import urlsplit

from scripe_integration.sandbox.common import FAIL_MARKER, TERMINAL
from scripe_integration.sandbox.errors import ApiError
from scripe_integration.sandbox.state import KNOWLEDGE_COST_CENTS, Job, SandboxState

TYPES = {
    "text": "KB_INGEST_TEXT",
    "url": "KB_INGEST_URL",
    "youtube": "KB_INGEST_YOUTUBE",
    "file": "KB_INGEST_FILE",
}
TEXT_CAP = 100_000  # as a generation's source text
URL_CAP = 2048
MAX_WAIT_MS = 25_000
NAME_CAP = 200
INACTIVE_PROJECT = frozenset({"PAUSED", "ARCHIVED", "ERROR"})
YOUTUBE = re.compile(
    r"^https?://(www\.|m\.)?(youtube\.com/(watch\?(.*&)?v=|shorts/|embed/)|youtu\.be/)"
    r"[A-Za-z0-9_-]{6,}"
)
FAILURES = {
    "url_unreachable": "The page could not be fetched (it answered 404).",
    "video_unavailable": "The video is private or has no captions to index.",
    "unreadable_file": "The file could not be read as text.",
    "provider_error": "The indexing provider returned an error.",
}


def _string(body: dict, name: str, cap: int) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value.strip():
        raise ApiError(
            400, "invalid_request", f"'{name}' must be a non-empty string.", details={"param": name}
        )
    if len(value) > cap:
        raise ApiError(413, "payload_too_large", f"'{name}' is longer than {cap} characters.")
    return value


def _web_address(body: dict) -> str:
    url = _string(body, "url", URL_CAP)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ApiError(
            400, "invalid_request", "'url' must be an absolute URL.", details={"param": "url"}
        )
    return url


def knowledge_create(state: SandboxState, body: dict) -> Job:
    """Checks a `POST /v1/knowledge` body, reserves the ingest's cost and starts its job."""
    kind = body.get("type")
    if kind not in TYPES:
        raise ApiError(
            400,
            "invalid_request",
            "'type' must be one of text, url, youtube, file.",
            details={"param": "type"},
        )
    name = body.get("name")
    if name is not None and (not isinstance(name, str) or len(name) > NAME_CAP):
        raise ApiError(
            400,
            "invalid_request",
            f"'name' must be a string of at most {NAME_CAP} characters.",
            details={"param": "name"},
        )
    if kind == "text":
        content = _string(body, "text", TEXT_CAP)
    elif kind == "url":
        content = _web_address(body)
    elif kind == "youtube":
        content = _web_address(body)
        if not YOUTUBE.match(content):
            raise ApiError(422, "unprocessable", "'url' is not a YouTube video address.")
    else:
        content = _string(body, "uploadId", 200)
        upload = state.uploads.by_id.get(content)
        if upload is None:
            raise ApiError(422, "unprocessable", "The upload is not in this workspace.")
        if not upload.complete:
            raise ApiError(
                422, "unprocessable", "The upload has no file yet; PUT it to its uploadUrl first."
            )
        if upload.used_by is not None:
            raise ApiError(409, "conflict", "This upload is already used.")
    project_id = body.get("projectId")
    if project_id is not None:
        project = state.projects.get(project_id) if isinstance(project_id, str) else None
        if project is None:
            raise ApiError(404, "not_found", "Project not found.")
        if project.status in INACTIVE_PROJECT:
            raise ApiError(
                422, "unprocessable", f"Project is {project.status}; it cannot take documents."
            )
    job_type = TYPES[kind]
    over_cap = state.reserve_spend(KNOWLEDGE_COST_CENTS[job_type])
    if over_cap:
        raise ApiError(
            402,
            "spend_cap_exceeded",
            "Daily AI-spend cap reached; it resets at 00:00 UTC.",
            meta=over_cap,
        )
    job = ingest_job(state, job_type, project_id, content, name or _default_name(content))
    if kind == "file":
        upload.used_by = job.id
    return job


def create_knowledge(req) -> tuple[int, dict]:
    """`POST /v1/knowledge`: answers the ingest job, after `wait_for_completion_ms` at most."""
    body = req.body()
    wait_ms = body.get("wait_for_completion_ms", 0)
    if isinstance(wait_ms, bool) or not isinstance(wait_ms, int) or wait_ms < 0:
        raise ApiError(
            400,
            "invalid_request",
            "'wait_for_completion_ms' must be a non-negative integer.",
            details={"param": "wait_for_completion_ms"},
        )
    job = knowledge_create(req.state, body)
    deadline = time.monotonic() + min(wait_ms, MAX_WAIT_MS) / 1000
    snapshot = req.state.job_json(job)
    while snapshot["status"] not in TERMINAL and time.monotonic() < deadline:
        time.sleep(min(0.05, max(0.0, deadline - time.monotonic())))
        snapshot = req.state.job_json(job)
    return 202, {"data": snapshot}


def _default_name(content: str) -> str:
    first = content.strip().splitlines()[0] if content.strip() else "Document"
    return first[:NAME_CAP]


def ingest_job(
    state: SandboxState, job_type: str, project_id: str | None, content: str, name: str
) -> Job:
    """A new ingest job on the clock; the next forced failure (or a fail marker) fails it."""
    with state.lock:
        now = state.clock()
        low, high = state.config.knowledge_seconds
        failure = None
        code = None
        if state.forced_failures:
            code = state.forced_failures.pop(0)
        elif FAIL_MARKER in content:
            code = content.split(FAIL_MARKER, 1)[1].lstrip("=").split("]", 1)[0]
            code = code or "provider_error"
        if code:
            failure = (code, FAILURES.get(code, "The document could not be indexed."))
        job = Job(
            id=state.short_id("job_"),
            project_id=project_id,
            source_text=content,
            language=None,
            scheduled_for=None,
            created=now,
            pickup_at=now + state.config.queue_seconds,
            finish_at=now + state.config.queue_seconds + state.rng.uniform(low, high),
            failure=failure,
            type=job_type,
            cost_cents=KNOWLEDGE_COST_CENTS[job_type],
            document_name=name,
        )
        state.jobs[job.id] = job
        return job
