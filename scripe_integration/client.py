"""The one place that speaks HTTP to Scripe (API v1, pinned to version 2026-08-01).

The client is deliberately dumb about time: it never sleeps and never retries. A retryable
failure comes back as a `ScripeError` with `retryable` and `retry_after` set, and the task
layer decides when to try again, with the same `Idempotency-Key` for writes. It refuses input
that Scripe would refuse before anything is sent, so a mistake costs no request and no quota.
"""

from __future__ import annotations

import email.utils
import html.parser
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from importlib import metadata
from typing import Any, Final
from urllib.parse import urlsplit

import httpx

from scripe_integration import metrics
from scripe_integration.contract import (
    API_VERSION,
    JOB_ID_RE,
    MAX_WAIT_FOR_COMPLETION_MS,
    OAUTH_DISCOVERY_PATH,
    PAGE_SIZE,
    POST_CONTENT_MAX_CHARS,
    POST_ID_RE,
    POST_TITLE_MAX_CHARS,
    PROJECT_ID_RE,
    RETRYABLE_STATUSES,
    SOURCE_ID_RE,
    SOURCE_TEXT_MAX_CHARS,
    TEXT_SOURCE_MAX_BYTES,
    UNSET,
    UPLOAD_ID_RE,
    WEBHOOK_ENDPOINT_ID_RE,
    AuthHealth,
    DeliveryAnswer,
    Deprecation,
    Job,
    OAuthRegistration,
    OAuthServer,
    OAuthTokens,
    Post,
    PostPage,
    Project,
    RateLimit,
    ScripeError,
    ScripeInputError,
    Source,
    Upload,
    WebhookEndpoint,
    Workspace,
    _Unset,
    check_id,
    check_idempotency_key,
    future_timestamp,
    int_or_none,
    knowledge_body,
    oauth_root,
    upload_cap,
    webhook_events,
    webhook_name,
    webhook_url,
)
from scripe_integration.destinations import (
    REFUSED,
    DestinationRefused,
    check_url,
    public_addresses,
)


def _app_version() -> str:
    try:
        return metadata.version("scripe-calendar")
    except metadata.PackageNotFoundError:
        return "0"


USER_AGENT: Final = f"scripe-calendar/{_app_version()} httpx/{httpx.__version__}"


class PublicOnlyTransport(httpx.BaseTransport):
    """Sends only to https URLs whose host resolves to public addresses (the rule in
    `destinations`), and connects to the addresses it checked.

    For each request it resolves the host once, refuses it unless every address is public,
    and hands httpx the URL with the host replaced by the checked address, while the Host
    header and TLS (the SNI name and the certificate check, through httpcore's `sni_hostname`
    extension) keep the name. So a DNS answer that changes after the check (rebinding) is
    never used. A refusal is an `httpx.ConnectError`, raised before any connection: to the
    caller it is a host that could not be reached. Redirects are not followed (httpx's
    default), so an answer cannot send the request on elsewhere. Environment proxies are not
    used: through a proxy the address connected to could not be checked.

    `options` are httpx.HTTPTransport's. Each name gets a connection pool of its own: pools
    are keyed by the address, and a connection verified for one name must never carry a
    request for another name at the same address."""

    def __init__(
        self, *, resolve: Callable[[str, int], list[str]] = public_addresses, **options: Any
    ) -> None:
        self._resolve = resolve
        self._options = options
        self._pools: dict[str, httpx.HTTPTransport] = {}

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        if url.scheme != "https":
            raise httpx.ConnectError("Only https addresses may be called.", request=request)
        name = url.raw_host.decode("ascii")
        try:
            addresses = self._resolve(name, url.port or 443)
        except DestinationRefused as refused:
            raise httpx.ConnectError(str(refused), request=request) from None
        pool = self._pools.get(name) or self._pools.setdefault(
            name, httpx.HTTPTransport(**self._options)
        )
        request.extensions = {**request.extensions, "sni_hostname": name}
        failure = httpx.ConnectError("The name has no address.", request=request)
        try:
            for address in addresses:
                request.url = url.copy_with(host=address)
                try:
                    return pool.handle_request(request)
                except httpx.ConnectError as error:
                    failure = error  # nothing was sent: try the name's next address
        finally:
            request.url = url
        raise failure

    def close(self) -> None:
        for pool in self._pools.values():
            pool.close()


class ScripeClient:
    """A Scripe API client for one workspace's key.

    >>> with ScripeClient("https://api.scripe.io/v1", api_key) as scripe:
    ...     job = scripe.generate_post("proj_…", "note text", idempotency_key=slot_key)
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        version: str = API_VERSION,
        connect_timeout: float = 5.0,
        read_timeout: float = 15.0,
        transport: httpx.BaseTransport | None = None,
        allow_local_hosts: bool = False,
        before_send: Callable[[], None] | None = None,
        after_response: Callable[[ScripeClient], None] | None = None,
        on_error: Callable[[ScripeError], None] | None = None,
        access_token: Callable[[], str] | None = None,
        renew_access_token: Callable[[], str] | None = None,
        workspace_id: str | None = None,
    ) -> None:
        """Hooks let the caller keep shared books on every call, whoever catches the error:
        `before_send` runs right before each request and may raise a ScripeError to keep it
        from being sent (a rate-limit hold shared by several processes); `after_response`
        runs on each answer, with `last_rate_limit` fresh; `on_error` on each failed call
        (no answer, or an error answer) before it is raised.

        Requests go only to https addresses on the public internet (`PublicOnlyTransport`);
        `allow_local_hosts` lifts that for the sandbox and development. A caller that brings
        its own `transport` decides for itself.

        OAuth instead of a key: `access_token` gives the bearer token right before each
        request (it refreshes an expired one), `renew_access_token` gets a fresh one when
        Scripe answers 401 anyway (the request is then sent once more), and `workspace_id`
        goes out as `Scripe-Workspace-Id`, naming which of the user's workspaces is meant."""
        if not api_key and access_token is None:
            raise ScripeInputError("api_key", "A Scripe API key is required.")
        self.read_timeout = read_timeout
        self.connect_timeout = connect_timeout
        self.last_rate_limit: RateLimit | None = None
        self.last_deprecation: Deprecation | None = None
        self.last_request_id: str | None = None
        self.last_status: int | None = None
        self.calls = 0
        self._before_send = before_send
        self._after_response = after_response
        self._on_error = on_error
        self._access_token = access_token
        self._renew_access_token = renew_access_token
        if transport is None and not allow_local_hosts:
            transport = PublicOnlyTransport()
        # The presigned upload URL (another host, S3's) gets the same destination rule but
        # never the key: see `put_upload`.
        self._upload_transport = transport
        headers = {
            "Scripe-Api-Version": version,
            "User-Agent": USER_AGENT,
            "Accept": "application/json",
        }
        if access_token is None:
            headers["Authorization"] = f"Bearer {api_key}"
        if workspace_id:
            headers["Scripe-Workspace-Id"] = workspace_id
        self._http = httpx.Client(
            base_url=base_url.rstrip("/") + "/",
            headers=headers,
            timeout=httpx.Timeout(read_timeout, connect=connect_timeout),
            transport=transport,
        )

    def __repr__(self) -> str:
        # Never the key: a repr ends up in logs and error pages.
        return f"ScripeClient(base_url={str(self._http.base_url)!r})"

    def __enter__(self) -> ScripeClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # workspace ---------------------------------------------------------------------------------
    def workspace_me(self) -> Workspace:
        return Workspace.from_api(self._request("GET", "workspaces/me"))

    def health_auth(self) -> AuthHealth:
        return AuthHealth.from_api(self._request("GET", "health/auth"))

    # projects ----------------------------------------------------------------------------------
    def list_projects(self) -> list[Project]:
        """Every project of the workspace, following the cursor to the last page."""
        return [Project.from_api(item) for item in self._paginate("projects", {})]

    def get_project(self, project_id: str) -> Project:
        check_id(PROJECT_ID_RE, project_id, "project_id", "proj_")
        return Project.from_api(self._request("GET", f"projects/{project_id}").get("data"))

    # generation and jobs -----------------------------------------------------------------------
    def generate_post(
        self,
        project_id: str,
        text: str,
        *,
        idempotency_key: str,
        scheduled_for: datetime | None = None,
        language: str | None = None,
        wait_for_completion_ms: int | None = None,
    ) -> Job:
        """Starts a generation. The caller stores `idempotency_key` before calling, so that a
        retry after a timeout or a crash replays the first job instead of starting a second."""
        check_id(PROJECT_ID_RE, project_id, "project_id", "proj_")
        if not isinstance(text, str) or not text.strip():
            raise ScripeInputError("text", "The source text is empty; write the idea first.")
        if len(text) > SOURCE_TEXT_MAX_CHARS:
            raise ScripeInputError(
                "text",
                f"The source text has {len(text):,} characters; Scripe takes at most "
                f"{SOURCE_TEXT_MAX_CHARS:,}.",
            )
        check_idempotency_key(idempotency_key)
        body: dict[str, Any] = {"projectId": project_id, "source": {"text": text}}
        if scheduled_for is not None:
            body["scheduledFor"] = future_timestamp(scheduled_for)
        if language:
            body["options"] = {"language": language}
        options: dict[str, Any] = {}
        if wait_for_completion_ms is not None:
            if not 0 <= wait_for_completion_ms <= MAX_WAIT_FOR_COMPLETION_MS:
                raise ScripeInputError(
                    "wait_for_completion_ms",
                    f"wait_for_completion_ms must be between 0 and {MAX_WAIT_FOR_COMPLETION_MS}.",
                )
            body["wait_for_completion_ms"] = wait_for_completion_ms
            # The server may hold the request that long; the read timeout must outlast it.
            options["timeout"] = httpx.Timeout(
                self.read_timeout + wait_for_completion_ms / 1000, connect=self.connect_timeout
            )
        response = self._send(
            "POST",
            "posts/generations",
            json=body,
            headers={"Idempotency-Key": idempotency_key},
            **options,
        )
        replayed = response.headers.get("Idempotent-Replayed", "").lower() == "true"
        return Job.from_api(self._json(response).get("data"), replayed=replayed)

    def add_knowledge(
        self,
        kind: str,
        content: str,
        *,
        idempotency_key: str,
        project_id: str | None = None,
        name: str = "",
    ) -> Job:
        """Starts a knowledge-base ingest (`POST /v1/knowledge`): `kind` is text, url,
        youtube or file, `content` the text, the address or the upload id. No `project_id`:
        the whole workspace's knowledge. Answers the ingest job (`KB_INGEST_*`); as with a
        generation, the caller stores `idempotency_key` first, so a retry replays it."""
        body = knowledge_body(kind, content, name=name)
        if project_id is not None:
            check_id(PROJECT_ID_RE, project_id, "project_id", "proj_")
            body["projectId"] = project_id
        check_idempotency_key(idempotency_key)
        response = self._send(
            "POST", "knowledge", json=body, headers={"Idempotency-Key": idempotency_key}
        )
        replayed = response.headers.get("Idempotent-Replayed", "").lower() == "true"
        return Job.from_api(self._json(response).get("data"), replayed=replayed)

    def get_job(self, job_id: str) -> Job:
        check_id(JOB_ID_RE, job_id, "job_id", "job_")
        return Job.from_api(self._request("GET", f"jobs/{job_id}").get("data"))

    def list_jobs(
        self,
        *,
        status: list[str] | None = None,
        type: list[str] | None = None,
        date_from: str | None = None,
        date_to: str | None = None,
    ) -> list[Job]:
        """Jobs, newest first, across every page."""
        return list(self.iter_jobs(status=status, type=type, date_from=date_from, date_to=date_to))

    def iter_jobs(
        self,
        *,
        status: list[str] | None = None,
        type: list[str] | None = None,
        date_from: str | None = None,
        date_to: str | None = None,
    ) -> Iterator[Job]:
        """Jobs, newest first, fetching the next page only when the caller reads on, so a
        caller looking for recent jobs can stop early."""
        params: dict[str, str] = {}
        if status:
            params["status"] = ",".join(status)
        if type:
            params["type"] = ",".join(type)
        if date_from:
            params["dateFrom"] = date_from
        if date_to:
            params["dateTo"] = date_to
        return (Job.from_api(item) for item in self._paginate("jobs", params))

    def cancel_job(self, job_id: str) -> Job:
        """Cancels a QUEUED job; anything else raises `not_cancellable` (re-read the job)."""
        check_id(JOB_ID_RE, job_id, "job_id", "job_")
        return Job.from_api(self._request("POST", f"jobs/{job_id}/cancel").get("data"))

    # uploads and sources ---------------------------------------------------------------------
    def create_upload(
        self, content_type: str, *, max_size_bytes: int, idempotency_key: str | None = None
    ) -> Upload:
        """Step one of a file source: a handle and a presigned URL for a file of this type and
        at most this size (both checked against the contract's caps before anything is sent)."""
        cap = upload_cap(content_type)
        if cap is None:
            raise ScripeInputError("content_type", f"Scripe takes no files of type {content_type}.")
        if not 1 <= max_size_bytes <= cap:
            raise ScripeInputError(
                "max_size_bytes",
                f"Scripe takes {content_type} files of at most {cap // 1024 // 1024} MB.",
            )
        headers = {}
        if idempotency_key:
            check_idempotency_key(idempotency_key)
            headers["Idempotency-Key"] = idempotency_key
        body = {"contentType": content_type, "maxSizeBytes": max_size_bytes}
        return Upload.from_api(
            self._request("POST", "uploads", json=body, headers=headers).get("data")
        )

    def put_upload(
        self,
        upload: Upload,
        path: str,
        *,
        size: int,
        on_progress: Callable[[int], None] | None = None,
        chunk_size: int = 1024 * 1024,
    ) -> None:
        """Step two: PUTs the file at `path` to the presigned URL, streamed from disk a chunk at
        a time (never the whole file in memory), without Scripe's key. A PUT that breaks off is
        a retryable ScripeError (send it again: the URL takes a new try until one completes);
        an expired or spent URL is `upload_expired` / `upload_used`, not retryable."""

        def chunks() -> Iterator[bytes]:
            sent = 0
            with open(path, "rb") as handle:
                while block := handle.read(chunk_size):
                    yield block
                    sent += len(block)
                    if on_progress is not None:
                        on_progress(sent)

        headers = {"Content-Type": upload.content_type, "Content-Length": str(size)}
        timeout = httpx.Timeout(max(60.0, self.read_timeout), connect=self.connect_timeout)
        with httpx.Client(transport=self._upload_transport, timeout=timeout) as http:
            try:
                response = http.put(upload.upload_url, content=chunks(), headers=headers)
            except (httpx.TransportError, OSError) as exc:
                raise self._noted(
                    ScripeError(
                        code="upload_interrupted",
                        message=f"The upload broke off ({exc.__class__.__name__}).",
                        retryable=True,
                    )
                ) from exc
        if response.is_success:
            return
        try:
            detail = (response.json().get("Error") or {}).get("Message") or ""
        except (ValueError, AttributeError):
            detail = ""
        code = "upload_refused"
        if response.status_code == 403 and "expired" in detail.lower():
            code = "upload_expired"
        elif response.status_code == 403 and "used" in detail.lower():
            code = "upload_used"
        raise self._noted(
            ScripeError(
                code=code,
                message=detail or f"The upload URL answered HTTP {response.status_code}.",
                http_status=response.status_code,
                retryable=response.status_code in RETRYABLE_STATUSES,
            )
        )

    def create_file_source(
        self, project_id: str, upload_id: str, *, name: str, idempotency_key: str
    ) -> Job:
        """Step three: Scripe ingests the uploaded file (a SOURCE_INGEST_FILE job). The caller
        stores `idempotency_key` first, so a retry after a lost answer makes no second source."""
        check_id(PROJECT_ID_RE, project_id, "project_id", "proj_")
        check_id(UPLOAD_ID_RE, upload_id, "upload_id", "upl_")
        check_idempotency_key(idempotency_key)
        body = {"type": "file", "projectId": project_id, "uploadId": upload_id, "name": name}
        response = self._send(
            "POST", "sources", json=body, headers={"Idempotency-Key": idempotency_key}
        )
        replayed = response.headers.get("Idempotent-Replayed", "").lower() == "true"
        return Job.from_api(self._json(response).get("data"), replayed=replayed)

    def create_text_source(
        self, project_id: str, text: str, *, name: str, idempotency_key: str
    ) -> Source:
        """A source from text already written or transcribed, stored at once."""
        check_id(PROJECT_ID_RE, project_id, "project_id", "proj_")
        if not text.strip():
            raise ScripeInputError("text", "The text is empty.")
        if len(text.encode()) > TEXT_SOURCE_MAX_BYTES:
            raise ScripeInputError("text", "Scripe takes text sources of at most 1 MB.")
        check_idempotency_key(idempotency_key)
        body = {"type": "text", "projectId": project_id, "text": text, "name": name}
        return Source.from_api(
            self._request(
                "POST", "sources", json=body, headers={"Idempotency-Key": idempotency_key}
            ).get("data")
        )

    def get_source(self, source_id: str) -> Source:
        check_id(SOURCE_ID_RE, source_id, "source_id", "src_")
        return Source.from_api(self._request("GET", f"sources/{source_id}").get("data"))

    # posts -------------------------------------------------------------------------------------
    def iter_posts(
        self,
        project_id: str,
        *,
        status: list[str] | None = None,
        date_from: str | None = None,
    ) -> Iterator[Post]:
        """A project's posts, newest first (by `createdAt`), fetching the next page only when
        the caller reads on. `date_from` is a `YYYY-MM-DD` bound on `createdAt`."""
        cursor = None
        while True:
            page = self.list_posts_page(
                project_id, status=status, cursor=cursor, date_from=date_from
            )
            yield from page.posts
            if not page.has_more:
                return
            cursor = page.next_cursor

    def get_post(self, post_id: str) -> Post:
        check_id(POST_ID_RE, post_id, "post_id", "post_")
        return Post.from_api(self._request("GET", f"posts/{post_id}").get("data"))

    def update_post(
        self,
        post_id: str,
        *,
        content: str | _Unset = UNSET,
        title: str | _Unset = UNSET,
        scheduled_for: datetime | _Unset | None = UNSET,
        idempotency_key: str | None = None,
    ) -> Post:
        """PATCH a post. `scheduled_for=None` unschedules it; leaving it out keeps it."""
        check_id(POST_ID_RE, post_id, "post_id", "post_")
        body: dict[str, Any] = {}
        if not isinstance(content, _Unset):
            if len(content) > POST_CONTENT_MAX_CHARS:
                raise ScripeInputError(
                    "content", f"The post is longer than {POST_CONTENT_MAX_CHARS:,} characters."
                )
            body["content"] = content
        if not isinstance(title, _Unset):
            if len(title) > POST_TITLE_MAX_CHARS:
                raise ScripeInputError(
                    "title", f"The title is longer than {POST_TITLE_MAX_CHARS} characters."
                )
            body["title"] = title
        if not isinstance(scheduled_for, _Unset):
            body["scheduledFor"] = (
                None if scheduled_for is None else future_timestamp(scheduled_for)
            )
        if not body:
            raise ScripeInputError("post", "Nothing to update.")
        headers = {}
        if idempotency_key is not None:
            check_idempotency_key(idempotency_key)
            headers["Idempotency-Key"] = idempotency_key
        return Post.from_api(
            self._request("PATCH", f"posts/{post_id}", json=body, headers=headers).get("data")
        )

    def list_posts_page(
        self,
        project_id: str,
        *,
        status: list[str] | None = None,
        cursor: str | None = None,
        limit: int = PAGE_SIZE,
        date_from: str | None = None,
        date_to: str | None = None,
    ) -> PostPage:
        """One page of a project's posts (newest first by `createdAt`), optionally only those
        in the given statuses. Start without `cursor`; pass the page's `next_cursor` until
        `has_more` is false. A `bad_cursor` error means the list changed under the cursor
        (a post left the filtered set): start again without it and dedupe by id."""
        check_id(PROJECT_ID_RE, project_id, "project_id", "proj_")
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= PAGE_SIZE:
            raise ScripeInputError("limit", f"limit must be between 1 and {PAGE_SIZE}.")
        params = {"projectId": project_id, "limit": str(limit)}
        if status:
            if not all(isinstance(s, str) and s and "," not in s for s in status):
                raise ScripeInputError("status", "Each status is a non-empty name.")
            params["status"] = ",".join(status)
        if date_from:
            params["dateFrom"] = date_from
        if date_to:
            params["dateTo"] = date_to
        if cursor:
            params["cursor"] = cursor
        page = self._request("GET", "posts", params=params)
        items = page.get("data")
        if not isinstance(items, list):
            raise ScripeError(
                code="invalid_response",
                message="Scripe's answer does not have the shape of a list of posts.",
                retryable=True,
            )
        pagination = page.get("pagination") if isinstance(page.get("pagination"), dict) else {}
        next_cursor = pagination.get("next_cursor") or None
        return PostPage(
            posts=tuple(Post.from_api(item) for item in items),
            next_cursor=next_cursor,
            has_more=bool(pagination.get("has_more")) and next_cursor is not None,
        )

    # webhook endpoints -------------------------------------------------------------------------
    def create_webhook_endpoint(
        self,
        *,
        name: str,
        url: str,
        events: list[str],
        project_id: str | None = None,
        idempotency_key: str | None = None,
    ) -> WebhookEndpoint:
        """Registers a URL for events. The answer carries `secret` (`whsec_…`), shown only
        this once: store it, encrypted, before anything else."""
        body: dict[str, Any] = {
            "name": webhook_name(name),
            "url": webhook_url(url),
            "events": webhook_events(events),
        }
        if project_id is not None:
            check_id(PROJECT_ID_RE, project_id, "project_id", "proj_")
            body["projectId"] = project_id
        headers = {}
        if idempotency_key is not None:
            check_idempotency_key(idempotency_key)
            headers["Idempotency-Key"] = idempotency_key
        data = self._request("POST", "webhook-endpoints", json=body, headers=headers).get("data")
        return WebhookEndpoint.from_api(data)

    def get_webhook_endpoint(self, endpoint_id: str) -> WebhookEndpoint:
        check_id(WEBHOOK_ENDPOINT_ID_RE, endpoint_id, "endpoint_id", "whe_")
        data = self._request("GET", f"webhook-endpoints/{endpoint_id}").get("data")
        return WebhookEndpoint.from_api(data)

    def update_webhook_endpoint(
        self,
        endpoint_id: str,
        *,
        name: str | _Unset = UNSET,
        url: str | _Unset = UNSET,
        events: list[str] | _Unset = UNSET,
        is_active: bool | _Unset = UNSET,
        project_id: str | _Unset | None = UNSET,
        idempotency_key: str | None = None,
    ) -> WebhookEndpoint:
        """PATCH an endpoint; what is left out stays. `project_id=None` makes it
        workspace-wide; `is_active=False` stops its deliveries."""
        check_id(WEBHOOK_ENDPOINT_ID_RE, endpoint_id, "endpoint_id", "whe_")
        body: dict[str, Any] = {}
        if not isinstance(name, _Unset):
            body["name"] = webhook_name(name)
        if not isinstance(url, _Unset):
            body["url"] = webhook_url(url)
        if not isinstance(events, _Unset):
            body["events"] = webhook_events(events)
        if not isinstance(is_active, _Unset):
            if not isinstance(is_active, bool):
                raise ScripeInputError("is_active", "is_active is True or False.")
            body["isActive"] = is_active
        if not isinstance(project_id, _Unset):
            if project_id is not None:
                check_id(PROJECT_ID_RE, project_id, "project_id", "proj_")
            body["projectId"] = project_id
        if not body:
            raise ScripeInputError("endpoint", "Nothing to update.")
        headers = {}
        if idempotency_key is not None:
            check_idempotency_key(idempotency_key)
            headers["Idempotency-Key"] = idempotency_key
        data = self._request(
            "PATCH", f"webhook-endpoints/{endpoint_id}", json=body, headers=headers
        ).get("data")
        return WebhookEndpoint.from_api(data)

    def rotate_webhook_secret(self, endpoint_id: str) -> WebhookEndpoint:
        """Mints a new secret, returned once in `secret`. Not idempotent: a retry after a lost
        answer mints yet another, so a caller that lost the answer rotates again."""
        check_id(WEBHOOK_ENDPOINT_ID_RE, endpoint_id, "endpoint_id", "whe_")
        data = self._request("POST", f"webhook-endpoints/{endpoint_id}/rotate-secret").get("data")
        return WebhookEndpoint.from_api(data)

    # plumbing ----------------------------------------------------------------------------------
    def _paginate(self, path: str, params: dict[str, str]) -> Iterator[dict]:
        cursor = None
        while True:
            page_params = {**params, "limit": str(PAGE_SIZE)}
            if cursor:
                page_params["cursor"] = cursor
            page = self._request("GET", path, params=page_params)
            items = page.get("data") or []
            yield from items if isinstance(items, list) else [items]
            pagination = page.get("pagination")
            if not isinstance(pagination, dict):
                return
            cursor = pagination.get("next_cursor")
            if not pagination.get("has_more") or not cursor:
                return

    def _request(self, method: str, path: str, **kwargs: Any) -> dict:
        return self._json(self._send(method, path, **kwargs))

    def _send(
        self, method: str, path: str, *, _renewed: bool = False, **kwargs: Any
    ) -> httpx.Response:
        if self._before_send is not None:
            self._before_send()
        if self._access_token is not None:
            # Never in a local of its own: error reports mask what follows "Bearer ".
            kwargs["headers"] = {
                **(kwargs.get("headers") or {}),
                "Authorization": f"Bearer {self._bearer(renew=_renewed)}",
            }
        self.calls += 1
        sent_at = datetime.now(UTC)
        try:
            response = self._timed_request(method, path, **kwargs)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise self._noted(
                ScripeError(
                    code="connection_error",
                    message=f"Could not reach Scripe ({exc.__class__.__name__}).",
                    retryable=True,
                )
            ) from exc
        except httpx.TimeoutException as exc:
            raise self._noted(
                ScripeError(
                    code="timeout",
                    message=f"Scripe did not answer in time ({exc.__class__.__name__}).",
                    retryable=True,
                )
            ) from exc
        except httpx.TransportError as exc:
            raise self._noted(
                ScripeError(
                    code="connection_lost",
                    message=f"The connection to Scripe broke before it answered "
                    f"({exc.__class__.__name__}).",
                    retryable=True,
                )
            ) from exc
        self._record(response, sent_at)
        if self._after_response is not None:
            self._after_response(self)
        if response.is_success:
            return response
        if response.status_code == 401 and self._renew_access_token is not None and not _renewed:
            # An OAuth token Scripe no longer takes (expired early, or revoked): one fresh
            # token, one more try. A refused refresh raises from `_bearer`.
            return self._send(method, path, _renewed=True, **kwargs)
        raise self._noted(self._error(response))

    def _timed_request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One request, counted for /metrics by endpoint and status (or "error")."""
        started = time.monotonic()
        status = None
        try:
            response = self._http.request(method, path, **kwargs)
            status = response.status_code
            return response
        finally:
            metrics.call_observe(
                method=method, path=path, status=status, seconds=time.monotonic() - started
            )

    def _bearer(self, *, renew: bool) -> str:
        """The OAuth access token for the next request."""
        try:
            if renew and self._renew_access_token is not None:
                return self._renew_access_token()
            return self._access_token()
        except ScripeError as error:
            raise self._noted(error) from None

    def _noted(self, error: ScripeError) -> ScripeError:
        if self._on_error is not None:
            self._on_error(error)
        return error

    def _record(self, response: httpx.Response, sent_at: datetime | None = None) -> None:
        headers = response.headers
        self.last_request_id = headers.get("X-Request-Id")
        self.last_status = response.status_code
        if "X-RateLimit-Limit" in headers or "X-RateLimit-Remaining" in headers:
            self.last_rate_limit = RateLimit(
                limit=int_or_none(headers.get("X-RateLimit-Limit")),
                remaining=int_or_none(headers.get("X-RateLimit-Remaining")),
                reset_seconds=int_or_none(headers.get("X-RateLimit-Reset")),
                seen_at=datetime.now(UTC),
                sent_at=sent_at,
            )
        if "Scripe-Deprecation" in headers:
            self.last_deprecation = Deprecation.parse(headers["Scripe-Deprecation"])

    @staticmethod
    def _json(response: httpx.Response) -> dict:
        try:
            body = response.json()
        except ValueError:
            raise ScripeError(
                code="invalid_response",
                message="Scripe answered with something that is not JSON.",
                http_status=response.status_code,
                request_id=response.headers.get("X-Request-Id"),
                retryable=True,
            ) from None
        if not isinstance(body, dict):
            raise ScripeError(
                code="invalid_response",
                message="Scripe answered with JSON that is not an object.",
                http_status=response.status_code,
                retryable=True,
            )
        return body

    @staticmethod
    def _error(response: httpx.Response) -> ScripeError:
        status = response.status_code
        try:
            envelope = response.json().get("error") or {}
        except (ValueError, AttributeError):
            envelope = {}
        if not isinstance(envelope, dict):
            envelope = {}
        return ScripeError(
            code=envelope.get("code") or f"http_{status}",
            message=envelope.get("message") or response.reason_phrase or f"HTTP {status}",
            http_status=status,
            request_id=envelope.get("request_id") or response.headers.get("X-Request-Id"),
            retryable=status in RETRYABLE_STATUSES,
            retry_after=_retry_after(response.headers.get("Retry-After")),
            details=envelope.get("details") if isinstance(envelope.get("details"), dict) else None,
            meta=envelope.get("meta") if isinstance(envelope.get("meta"), dict) else None,
        )


class _TextOfPage(html.parser.HTMLParser):
    """The readable text of an HTML page: no scripts, styles or markup."""

    SKIPPED = frozenset({"script", "style", "noscript", "template", "svg", "head"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.title = ""
        self._skip = 0
        self._in_title = False

    def handle_starttag(self, tag, attrs) -> None:
        if tag in self.SKIPPED:
            self._skip += 1
        self._in_title = tag == "title"

    def handle_endtag(self, tag) -> None:
        if tag in self.SKIPPED and self._skip:
            self._skip -= 1
        if tag in ("p", "div", "br", "li", "h1", "h2", "h3", "section", "article"):
            self.parts.append("\n")
        self._in_title = False

    def handle_data(self, data) -> None:
        if self._in_title and not self.title:
            self.title = data.strip()
        if not self._skip:
            self.parts.append(data)

    def text(self) -> str:
        lines = (" ".join(line.split()) for line in "".join(self.parts).splitlines())
        return "\n".join(line for line in lines if line)


def fetch_text(
    url: str, *, max_bytes: int, allow_local_hosts: bool = False, timeout: float = 15.0
) -> str:
    """A page's text (HTML made readable, plain text as it is), read at most `max_bytes`
    deep, for a link an editor gave as a source. Only public https hosts (the destination
    rule, `PublicOnlyTransport`) unless `allow_local_hosts`; no redirects followed, so an
    answer cannot send the request elsewhere. Failures are ScripeErrors: `fetch_failed`
    (retryable when the host did not answer) or `fetch_refused`."""
    try:
        check_url(url, allow_local=allow_local_hosts, resolve=False)
    except DestinationRefused as refused:
        raise ScripeError(code="fetch_refused", message=str(refused), retryable=False) from None
    transport = None if allow_local_hosts else PublicOnlyTransport()
    headers = {"User-Agent": USER_AGENT, "Accept": "text/html, text/plain;q=0.9"}
    try:
        with (
            httpx.Client(transport=transport, timeout=timeout, headers=headers) as http,
            http.stream("GET", url) as response,
        ):
            if response.status_code != 200:
                raise ScripeError(
                    code="fetch_refused",
                    message=f"The page answered HTTP {response.status_code}.",
                    http_status=response.status_code,
                    retryable=response.status_code in RETRYABLE_STATUSES,
                )
            kind = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
            if kind not in ("text/html", "text/plain", "application/xhtml+xml", ""):
                raise ScripeError(
                    code="fetch_refused",
                    message=f"The link is a {kind} file, not a page; upload the file instead.",
                    retryable=False,
                )
            body = bytearray()
            for chunk in response.iter_bytes():
                body.extend(chunk[: max_bytes - len(body)])
                if len(body) >= max_bytes:
                    break
            encoding = response.encoding or "utf-8"
    except httpx.TransportError as exc:
        raise ScripeError(
            code="fetch_failed",
            message=f"The page could not be read ({exc.__class__.__name__}).",
            # The transport's own refusal (a name resolving to a private address) is final.
            retryable=REFUSED not in str(exc),
        ) from exc
    text = bytes(body).decode(encoding, errors="replace")
    if kind == "text/plain":
        return text
    parser = _TextOfPage()
    parser.feed(text)
    page = parser.text()
    return f"{parser.title}\n\n{page}" if parser.title and parser.title not in page else page


class ScripeOAuthClient:
    """Speaks OAuth 2.1 to Scripe's authorization server (contract §2.4): discovery,
    dynamic registration, the code exchange with PKCE, refresh, revocation.

    Every request goes to the origin of the API's base URL and nowhere else: discovery is
    asked there, and metadata naming an endpoint on another origin is refused, so a server
    (or a typo) cannot make this one call an address nobody configured. Like `ScripeClient`
    it calls only public https addresses unless `allow_local_hosts`. Never retries."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
        allow_local_hosts: bool = False,
    ) -> None:
        self.root = oauth_root(base_url)
        if transport is None and not allow_local_hosts:
            transport = PublicOnlyTransport()
        self._http = httpx.Client(
            headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
            timeout=httpx.Timeout(timeout, connect=5.0),
            transport=transport,
        )

    def __repr__(self) -> str:
        return f"ScripeOAuthClient(root={self.root!r})"

    def __enter__(self) -> ScripeOAuthClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def discover(self) -> OAuthServer:
        server = OAuthServer.from_api(self._call("GET", self.root + OAUTH_DISCOVERY_PATH))
        for endpoint in server.endpoints:
            if not _same_origin(endpoint, self.root):
                raise ScripeError(
                    code="invalid_response",
                    message="Scripe's OAuth metadata names an endpoint outside its base URL.",
                )
        if "S256" not in server.code_challenge_methods:
            raise ScripeError(
                code="invalid_response",
                message="Scripe's OAuth server does not offer PKCE with S256.",
            )
        return server

    def register(
        self, server: OAuthServer, *, client_name: str, redirect_uri: str, scopes: Iterable[str]
    ) -> OAuthRegistration:
        body = {
            "client_name": client_name,
            "redirect_uris": [redirect_uri],
            "scope": " ".join(scopes),
            "token_endpoint_auth_method": "none",
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
        }
        return OAuthRegistration.from_api(
            self._call("POST", self._checked(server.registration_endpoint), json=body)
        )

    def exchange_code(
        self,
        server: OAuthServer,
        *,
        client_id: str,
        code: str,
        code_verifier: str,
        redirect_uri: str,
    ) -> OAuthTokens:
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "client_id": client_id,
            "code_verifier": code_verifier,
        }
        return self._tokens(server, form)

    def refresh(self, server: OAuthServer, *, client_id: str, refresh_token: str) -> OAuthTokens:
        """Trades the refresh token for new tokens. Scripe rotates: the refresh token given
        here stops working, and sending it again revokes the grant, so store the answer's
        before anything else."""
        form = {
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
            "client_id": client_id,
        }
        return self._tokens(server, form)

    def revoke(self, server: OAuthServer, *, client_id: str, token: str) -> None:
        if not server.revocation_endpoint:
            return
        form = {"token": token, "token_type_hint": "refresh_token", "client_id": client_id}
        self._call("POST", self._checked(server.revocation_endpoint), data=form)

    def _tokens(self, server: OAuthServer, form: dict[str, str]) -> OAuthTokens:
        received_at = datetime.now(UTC)
        body = self._call("POST", self._checked(server.token_endpoint), data=form)
        return OAuthTokens.from_api(body, received_at=received_at)

    def _checked(self, url: str) -> str:
        if not _same_origin(url, self.root):
            raise ScripeError(
                code="invalid_response",
                message="Scripe's OAuth metadata names an endpoint outside its base URL.",
            )
        return url

    def _call(self, method: str, url: str, **kwargs: Any) -> dict:
        try:
            response = self._http.request(method, url, **kwargs)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise ScripeError(
                code="connection_error",
                message=f"Could not reach Scripe ({exc.__class__.__name__}).",
                retryable=True,
            ) from exc
        except httpx.TimeoutException as exc:
            raise ScripeError(
                code="timeout",
                message=f"Scripe did not answer in time ({exc.__class__.__name__}).",
                retryable=True,
            ) from exc
        except httpx.TransportError as exc:
            raise ScripeError(
                code="connection_lost",
                message=f"The connection to Scripe broke ({exc.__class__.__name__}).",
                retryable=True,
            ) from exc
        try:
            body = response.json() if response.content else {}
        except ValueError:
            body = None
        if response.is_success and isinstance(body, dict):
            return body
        if response.is_success:
            raise ScripeError(
                code="invalid_response",
                message="Scripe's OAuth server answered with something that is not JSON.",
                http_status=response.status_code,
                retryable=True,
            )
        # RFC 6749 §5.2: {"error": "invalid_grant", "error_description": "..."}.
        error = body.get("error") if isinstance(body, dict) else None
        description = body.get("error_description") if isinstance(body, dict) else None
        status = response.status_code
        code = error if isinstance(error, str) and error else f"http_{status}"
        raise ScripeError(
            code=code,
            message=str(description or response.reason_phrase or f"HTTP {status}"),
            http_status=status,
            retryable=status in RETRYABLE_STATUSES,
            retry_after=_retry_after(response.headers.get("Retry-After")),
        )


def _same_origin(url: str, root: str) -> bool:
    a, b = urlsplit(url), urlsplit(root)
    return (a.scheme, a.hostname, a.port) == (b.scheme, b.hostname, b.port)


def collect_newest_first(
    items: Iterable, wanted: set[str], *, back_to: datetime, on_item=None
) -> dict:
    """Reads a newest-first listing (`iter_jobs`, `iter_posts`) until every id in `wanted` is
    found or the listing reaches what was created before `back_to`, so no more pages are
    fetched than needed. Returns the found items by id. `on_item` runs for each item read
    (a caller holding a lease renews it while pages arrive)."""
    found: dict = {}
    for item in items:
        if on_item is not None:
            on_item()
        if item.id in wanted:
            found[item.id] = item
        if len(found) == len(wanted) or (item.created_at and item.created_at < back_to):
            break
    return found


def _retry_after(value: str | None) -> float | None:
    """Retry-After in seconds: an integer, or an HTTP date turned into seconds from now."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


# How much of a webhook receiver's answer is read: its first lines are kept for the log.
DELIVERY_READ_BYTES: Final = 4096
DELIVERY_HEAD_LINES: Final = 5
DELIVERY_HEAD_CHARS: Final = 500


def deliver(
    url: str,
    body: bytes,
    headers: dict[str, str],
    *,
    allow_local_hosts: bool = False,
    connect_timeout: float = 5.0,
    read_timeout: float = 10.0,
    transport: httpx.BaseTransport | None = None,
) -> DeliveryAnswer:
    """POSTs `body` to `url` once under the destination rule (`PublicOnlyTransport`: https
    on the public internet; `allow_local_hosts` lifts it) and says what came back. Never
    raises for the network or the answer: a refused address, a timeout or a broken
    connection is an answer without a status and with a reason. Redirects are not followed,
    and at most DELIVERY_READ_BYTES of the answer are read."""
    if transport is None and not allow_local_hosts:
        transport = PublicOnlyTransport()
    started = time.monotonic()

    def took() -> int:
        return round((time.monotonic() - started) * 1000)

    try:
        with (
            httpx.Client(
                timeout=httpx.Timeout(read_timeout, connect=connect_timeout),
                transport=transport,
                headers={"User-Agent": USER_AGENT},
                trust_env=False,
            ) as http,
            http.stream("POST", url, content=body, headers=headers) as response,
        ):
            read = b""
            for chunk in response.iter_bytes():
                read += chunk
                if len(read) >= DELIVERY_READ_BYTES:
                    break
            return DeliveryAnswer(response.status_code, took(), _head(read))
    except httpx.TimeoutException as exc:
        return DeliveryAnswer(None, took(), error=f"No answer in time ({exc.__class__.__name__}).")
    except httpx.ConnectError as exc:
        return DeliveryAnswer(None, took(), error=f"Could not connect: {exc}"[:300])
    except (httpx.TransportError, httpx.InvalidURL) as exc:
        return DeliveryAnswer(
            None, took(), error=f"The connection broke ({exc.__class__.__name__})."
        )


def _head(raw: bytes) -> str:
    lines = raw[:DELIVERY_READ_BYTES].decode("utf-8", "replace").splitlines()
    return "\n".join(lines[:DELIVERY_HEAD_LINES])[:DELIVERY_HEAD_CHARS]
