"""`/mcp/`: the MCP endpoint, served by Django like any other page.

The SDK's streamable HTTP transport is an ASGI (Starlette) app, and this project is served
over WSGI (gunicorn in production, runserver in development, pytest-django's live server in
the tests). Three ways to join them were weighed:

- An ASGI server beside gunicorn, or the whole project moved to ASGI: a second process to run
  and deploy, or a change of server for every page, for one endpoint.
- An ASGI->WSGI adapter (a2wsgi) mounted in `config/wsgi.py`: it keeps one event loop in a
  thread of its own for the process, so every tool's database work would leave the request's
  thread for a single shared one (Django's ORM is synchronous), and the endpoint would bypass
  Django's URLs and middleware and be missing from runserver and the live server unless each
  is wired separately.
- This: a plain Django view that authenticates the token, then runs the SDK's own session
  manager for the one request, in **stateless, JSON-response mode**, through asgiref's
  `async_to_sync`, which is how Django itself runs an async view under WSGI (a one-off event
  loop per request). Stateless means nothing is kept between requests (no `Mcp-Session-Id`,
  no server-initiated stream), so a manager that lives for one request loses nothing, and
  JSON-response means every POST is answered with one JSON body, which is what a WSGI worker
  can serve; nothing holds a worker open. The tools are async wrappers that call the
  synchronous services with `sync_to_async` (thread-sensitive), which runs them back on this
  request's thread: same database connection, the same `acting_via` context for the trail,
  closed by Django at the end of the request.

So `/mcp/` passes through the same URL conf, middleware (host check, security headers,
logging) and servers as every page. Only POST is served: the GET stream and the DELETE of a
session do not exist without sessions, and both answer 405 as the transport's specification
asks. No cookie is read, so the view is exempt from CSRF; only a Bearer token opens it.
"""

from __future__ import annotations

from asgiref.sync import async_to_sync
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from calendar_app.accounts.tokens import token_authenticate
from calendar_app.api.limits import rate_take
from calendar_app.notifications.trail import acting_via

# Where the SDK's Starlette app listens, inside the one-request ASGI scope this view builds.
INNER_PATH = "/mcp"


def _unauthorized(description: str, *, sent: bool) -> JsonResponse:
    """401 as OAuth 2.0 Bearer (RFC 6750) answers it: with `invalid_token` when a token was
    sent, and only the realm when none was."""
    response = JsonResponse(
        {"error": "invalid_token" if sent else "unauthenticated", "error_description": description},
        status=401,
    )
    challenge = 'Bearer realm="mcp"'
    if sent:
        challenge += f', error="invalid_token", error_description="{description}"'
    response["WWW-Authenticate"] = challenge
    return response


def _bearer(request: HttpRequest) -> str | None:
    parts = request.headers.get("Authorization", "").split()
    if len(parts) != 2 or parts[0].lower() != "bearer":
        return None
    return parts[1]


def _scope(request: HttpRequest, body: bytes) -> dict:
    """The ASGI scope of this request, as the SDK's app expects it. The token stays here: the
    SDK has no use for it, so it cannot turn up in anything the SDK logs."""
    headers = [
        (name.lower().encode("latin-1"), value.encode("latin-1"))
        for name, value in request.headers.items()
        if name.lower() != "authorization"
    ]
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": request.method,
        "scheme": request.scheme,
        "path": INNER_PATH,
        "raw_path": INNER_PATH.encode(),
        "root_path": "",
        "query_string": request.META.get("QUERY_STRING", "").encode("latin-1"),
        "headers": headers,
        "client": (request.META.get("REMOTE_ADDR", ""), 0),
        "server": (request.get_host(), int(request.get_port() or 0)),
        "state": {},
    }


async def _serve(scope: dict, body: bytes) -> HttpResponse:
    """One request through the SDK's stateless session manager, collected into a response."""
    from calendar_app.assistants.tools import server_app

    app = server_app(INNER_PATH)
    sent = False
    status = 500
    headers: list[tuple[bytes, bytes]] = []
    chunks: list[bytes] = []

    async def receive() -> dict:
        nonlocal sent
        if sent:
            # The body was read whole; nothing else arrives.
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict) -> None:
        nonlocal status, headers
        if message["type"] == "http.response.start":
            status = message["status"]
            headers = list(message.get("headers", []))
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    async with app.router.lifespan_context(app):
        await app(scope, receive, send)
    response = HttpResponse(b"".join(chunks), status=status)
    for name, value in headers:
        if name.lower() != b"content-length":
            response[name.decode("latin-1")] = value.decode("latin-1")
    return response


@csrf_exempt
def mcp_endpoint(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        response = HttpResponse(status=405)
        response["Allow"] = "POST"
        return response
    secret = _bearer(request)
    if secret is None:
        return _unauthorized(
            "Send a personal access token as Authorization: Bearer <token>.", sent=False
        )
    use = token_authenticate(secret)
    if use is None:
        return _unauthorized(
            "This token is unknown, revoked or expired; make a new one in Settings, API tokens.",
            sent=True,
        )
    # The same budget as the REST API: one token, one limit, whichever way it comes.
    rate = rate_take(token_key=str(use.token.public_id))
    if not rate.allowed:
        response = JsonResponse(
            {
                "error": "rate_limited",
                "error_description": f"Too many requests with this token; try again in "
                f"{rate.reset} s.",
            },
            status=429,
        )
        response["Retry-After"] = str(rate.reset)
    else:
        try:
            body = request.body
        except RequestDataTooBig:
            return JsonResponse(
                {"error": "too_large", "error_description": "The request is too large."},
                status=413,
            )
        # The SDK (pydantic, starlette) takes about a second to import: it is loaded at the
        # first call of /mcp/, not by every process that reads the urls (web, workers, tests).
        from calendar_app.assistants.tools import acting_as

        with acting_as(use), acting_via(f"MCP ({use.token.name})"):
            response = async_to_sync(_serve)(_scope(request, body), body)
    for name, value in rate.headers().items():
        response[name] = value
    return response
