"""The sandbox's OAuth 2.1 server (contract §2.4): discovery, dynamic client registration, an
authorize page where the sandbox's user consents, and a token endpoint for the authorization
code (PKCE S256 only) and for refresh tokens, which rotate.

Where the contract is silent the sandbox picks, and keeps to, these answers:

- Paths: `/.well-known/oauth-authorization-server`, `/oauth/register`, `/oauth/authorize`,
  `/oauth/token`, `/oauth/revoke` (RFC 7009), on the same origin as `/v1`. Errors follow
  RFC 6749 (`{"error", "error_description"}`), not the `/v1` envelope.
- Clients are public (`token_endpoint_auth_method: none`); a redirect URI must match one
  registered exactly. `code_challenge_method` must be `S256`: `plain` or no challenge is
  refused. A code lives 60 s and is used once; using it again revokes what it gave.
- Access tokens (`scripe_oat_…`) live `Config.oauth_access_seconds` (an hour by default);
  expired, they are refused with `401 invalid_token`. Refresh tokens (`scripe_ort_…`) do
  not expire but rotate: each use gives a new one and the old one stops working; presenting
  an old one again is taken as theft and revokes the whole grant (every token of it).
- The sandbox's user ("Sandbox User") belongs to the sandbox's workspace and to the
  workspaces in `Config.oauth_workspaces`; the one picked on the consent page is the grant's
  default, `Scripe-Workspace-Id` targets another of them, and any other id is
  `403 workspace_mismatch`. Only the sandbox's own workspace holds data: for the others
  `/v1/workspaces/me` and `/v1/health/auth` answer, every other route `404 not_found`.
- `POST /_sandbox/oauth/revoke` is the user revoking the app in Scripe's settings: every
  grant (or those of `{"clientId": …}`) stops working at once.

Clients, grants and tokens are kept in the state file (`persistence.py`), so an app stays
connected across a restart; authorization codes are not (a consent in flight is lost).
"""

from __future__ import annotations

import base64
import gettext
import hashlib
import html
import json
import re
import secrets
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

from scripe_integration.sandbox.state import ALL_SCOPES, ApiKey, SandboxState

CODE_SECONDS = 60
# RFC 7636: 43 to 128 characters of [A-Z a-z 0-9 - . _ ~].
VERIFIER = re.compile(r"^[A-Za-z0-9._~-]{43,128}$")
OAUTH_SCOPES = (*ALL_SCOPES, "offline_access")
USER = {"id": "user_01JSANDBOXUSER000000000001", "name": "Sandbox User"}


class OAuthError(Exception):
    """An RFC 6749 error answer."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error, self.description, self.status = error, description, status


@dataclass
class Client:
    id: str
    name: str
    redirect_uris: tuple[str, ...]
    scope: str


@dataclass
class Grant:
    id: str
    client_id: str
    scopes: tuple[str, ...]
    workspace_id: str  # the default, pinned at consent
    refresh_token: str
    used_refresh_tokens: set[str] = field(default_factory=set)
    revoked: bool = False


@dataclass
class Code:
    grant: Grant
    redirect_uri: str
    challenge: str
    expires_at: float
    used: bool = False


class OAuthStore:
    """Clients, codes, grants and tokens, under the state's lock."""

    def __init__(self, state: SandboxState) -> None:
        self.state = state
        self.clients: dict[str, Client] = {}
        self.codes: dict[str, Code] = {}
        self.grants: dict[str, Grant] = {}
        self.access_tokens: dict[str, tuple[Grant, float]] = {}
        self.refresh_tokens: dict[str, Grant] = {}
        self.refreshes = 0  # successful refresh-token exchanges, for tests

    def workspaces(self) -> list[dict]:
        """Every workspace the sandbox's user belongs to; the data-holding one first."""
        ws = self.state.workspace
        extra = [
            {"id": wid, "name": name, "plan": ws["plan"]}
            for wid, name in self.state.config.oauth_workspaces
        ]
        return [ws, *extra]

    def workspace(self, workspace_id: str) -> dict | None:
        return next((w for w in self.workspaces() if w["id"] == workspace_id), None)

    # the state file -------------------------------------------------------------------------
    def dump(self) -> dict:
        with self.state.lock:
            return {
                "clients": [
                    {
                        "id": c.id,
                        "name": c.name,
                        "redirectUris": list(c.redirect_uris),
                        "scope": c.scope,
                    }
                    for c in self.clients.values()
                ],
                "grants": [
                    {
                        "id": g.id,
                        "clientId": g.client_id,
                        "scopes": list(g.scopes),
                        "workspaceId": g.workspace_id,
                        "refreshToken": g.refresh_token,
                        "usedRefreshTokens": sorted(g.used_refresh_tokens),
                        "revoked": g.revoked,
                    }
                    for g in self.grants.values()
                ],
                "accessTokens": [
                    [token, grant.id, expires_at]
                    for token, (grant, expires_at) in self.access_tokens.items()
                ],
            }

    def load(self, data: dict) -> None:
        clients = {
            row["id"]: Client(row["id"], row["name"], tuple(row["redirectUris"]), row["scope"])
            for row in data.get("clients", [])
        }
        grants = {
            row["id"]: Grant(
                id=row["id"],
                client_id=row["clientId"],
                scopes=tuple(row["scopes"]),
                workspace_id=row["workspaceId"],
                refresh_token=row["refreshToken"],
                used_refresh_tokens=set(row["usedRefreshTokens"]),
                revoked=bool(row["revoked"]),
            )
            for row in data.get("grants", [])
        }
        with self.state.lock:
            self.clients, self.grants = clients, grants
            self.refresh_tokens = {}
            for grant in grants.values():
                for token in (*grant.used_refresh_tokens, grant.refresh_token):
                    self.refresh_tokens[token] = grant
            self.access_tokens = {
                token: (grants[grant_id], float(expires_at))
                for token, grant_id, expires_at in data.get("accessTokens", [])
                if grant_id in grants
            }

    # registration ---------------------------------------------------------------------------
    def register(self, body: dict) -> Client:
        uris = body.get("redirect_uris")
        if (
            not isinstance(uris, list)
            or not uris
            or not all(isinstance(u, str) and urlsplit(u).scheme in ("http", "https") for u in uris)
        ):
            raise OAuthError("invalid_redirect_uri", "redirect_uris must list absolute URLs.")
        method = body.get("token_endpoint_auth_method", "none")
        if method != "none":
            raise OAuthError(
                "invalid_client_metadata", "Only public clients (token_endpoint_auth_method none)."
            )
        scope = body.get("scope") or " ".join(OAUTH_SCOPES)
        if not isinstance(scope, str) or set(scope.split()) - set(OAUTH_SCOPES):
            raise OAuthError("invalid_client_metadata", "scope names an unknown scope.")
        name = body.get("client_name")
        client = Client(
            id=self.state.ulid("cli_"),
            name=name if isinstance(name, str) and name else "An application",
            redirect_uris=tuple(uris),
            scope=scope,
        )
        with self.state.lock:
            self.clients[client.id] = client
        return client

    # authorize ------------------------------------------------------------------------------
    def check_authorize(self, query: dict[str, str]) -> tuple[Client, str]:
        """The client and redirect URI, or an OAuthError for a request that must not be
        redirected (unknown client, unregistered redirect URI)."""
        client = self.clients.get(query.get("client_id", ""))
        if client is None:
            raise OAuthError("invalid_client", "Unknown client_id.")
        redirect_uri = query.get("redirect_uri", "")
        if redirect_uri not in client.redirect_uris:
            raise OAuthError("invalid_request", "redirect_uri is not registered for this client.")
        return client, redirect_uri

    def check_pkce(self, client: Client, query: dict[str, str]) -> tuple[str, tuple[str, ...]]:
        """(code challenge, scopes); errors here go back to the redirect URI."""
        if query.get("response_type") != "code":
            raise OAuthError("unsupported_response_type", "Only response_type=code.")
        challenge = query.get("code_challenge", "")
        if not challenge:
            raise OAuthError("invalid_request", "PKCE is required: send code_challenge (S256).")
        if query.get("code_challenge_method") != "S256":
            raise OAuthError("invalid_request", "Only code_challenge_method=S256 is accepted.")
        asked = (query.get("scope") or client.scope).split()
        unknown = set(asked) - set(client.scope.split())
        if unknown:
            raise OAuthError("invalid_scope", f"Not registered: {', '.join(sorted(unknown))}.")
        return challenge, tuple(asked)

    def approve(
        self,
        client: Client,
        redirect_uri: str,
        challenge: str,
        scopes: tuple[str, ...],
        workspace_id: str,
    ) -> str:
        if self.workspace(workspace_id) is None:
            workspace_id = self.state.workspace["id"]
        grant = Grant(
            id=self.state.ulid("grant_"),
            client_id=client.id,
            scopes=scopes,
            workspace_id=workspace_id,
            refresh_token="",
        )
        code = "scripe_oac_" + secrets.token_urlsafe(24)
        with self.state.lock:
            self.codes[code] = Code(
                grant, redirect_uri, challenge, self.state.clock() + CODE_SECONDS
            )
        return code

    # token ----------------------------------------------------------------------------------
    def token(self, form: dict[str, str]) -> dict:
        grant_type = form.get("grant_type")
        if grant_type == "authorization_code":
            return self._exchange_code(form)
        if grant_type == "refresh_token":
            return self._refresh(form)
        raise OAuthError("unsupported_grant_type", "Only authorization_code and refresh_token.")

    def _exchange_code(self, form: dict[str, str]) -> dict:
        with self.state.lock:
            code = self.codes.get(form.get("code", ""))
            if code is None or code.grant.client_id != form.get("client_id"):
                raise OAuthError("invalid_grant", "Unknown code.")
            if code.used:
                # RFC 6749 §4.1.2: a code used twice revokes what it gave.
                self._revoke(code.grant)
                raise OAuthError("invalid_grant", "The code was already used.")
            code.used = True
            if code.expires_at < self.state.clock():
                raise OAuthError("invalid_grant", "The code has expired.")
            if form.get("redirect_uri") != code.redirect_uri:
                raise OAuthError("invalid_grant", "Not the redirect_uri authorized.")
            verifier = form.get("code_verifier", "")
            if not VERIFIER.match(verifier):
                raise OAuthError("invalid_request", "code_verifier is missing or malformed.")
            if s256(verifier) != code.challenge:
                raise OAuthError("invalid_grant", "code_verifier does not match the challenge.")
            grant = code.grant
            self.grants[grant.id] = grant
            return self._issue(grant)

    def _refresh(self, form: dict[str, str]) -> dict:
        presented = form.get("refresh_token", "")
        with self.state.lock:
            grant = self.refresh_tokens.get(presented)
            if grant is None:
                raise OAuthError("invalid_grant", "Unknown refresh token.")
            if grant.client_id != form.get("client_id"):
                raise OAuthError("invalid_grant", "The refresh token belongs to another client.")
            if grant.revoked:
                raise OAuthError("invalid_grant", "The grant was revoked; authorize again.")
            if presented != grant.refresh_token:
                # An old refresh token again: someone kept a copy. Revoke everything.
                self._revoke(grant)
                raise OAuthError(
                    "invalid_grant", "The refresh token was already used; the grant is revoked."
                )
            grant.used_refresh_tokens.add(presented)
            self.refreshes += 1
            return self._issue(grant)

    def _issue(self, grant: Grant) -> dict:
        access = "scripe_oat_" + secrets.token_urlsafe(32)
        refresh = "scripe_ort_" + secrets.token_urlsafe(32)
        lifetime = self.state.config.oauth_access_seconds
        self.access_tokens[access] = (grant, self.state.clock() + lifetime)
        grant.refresh_token = refresh
        self.refresh_tokens[refresh] = grant
        return {
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": int(lifetime) if lifetime == int(lifetime) else lifetime,
            "refresh_token": refresh,
            "scope": " ".join(grant.scopes),
        }

    # revocation -----------------------------------------------------------------------------
    def _revoke(self, grant: Grant) -> None:
        grant.revoked = True
        for token in [t for t, (g, _) in self.access_tokens.items() if g is grant]:
            del self.access_tokens[token]

    def revoke_token(self, token: str) -> None:
        """RFC 7009: revoking either token of a grant ends the grant."""
        with self.state.lock:
            grant = self.refresh_tokens.get(token)
            if grant is None and token in self.access_tokens:
                grant = self.access_tokens[token][0]
            if grant is not None:
                self._revoke(grant)

    def revoke_grants(self, client_id: str | None = None) -> int:
        """The user revoked the app in Scripe: its grants stop working at once."""
        with self.state.lock:
            found = [
                g
                for g in self.grants.values()
                if not g.revoked and (client_id is None or g.client_id == client_id)
            ]
            for grant in found:
                self._revoke(grant)
            return len(found)

    # /v1 authentication ---------------------------------------------------------------------
    def authenticate(self, token: str) -> ApiKey | str:
        with self.state.lock:
            found = self.access_tokens.get(token)
            if found is None:
                return "invalid_token"
            grant, expires_at = found
            if grant.revoked:
                return "invalid_token"
            if expires_at <= self.state.clock():
                return "token_expired"
            return ApiKey(
                secret=token,
                id=grant.id,
                scopes=grant.scopes,
                type="oauth",
                workspace_ids=tuple(w["id"] for w in self.workspaces()),
                default_workspace_id=grant.workspace_id,
            )


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def store_of(state: SandboxState) -> OAuthStore:
    """The state's OAuth store, made on first use (the state module knows nothing of OAuth)."""
    with state.lock:
        store = getattr(state, "oauth", None)
        if store is None:
            store = state.oauth = OAuthStore(state)
        return store


# HTTP ----------------------------------------------------------------------------------------


def is_oauth_path(path: str) -> bool:
    return path.startswith("/oauth/") or path == "/.well-known/oauth-authorization-server"


def metadata(root: str) -> dict:
    return {
        "issuer": root,
        "authorization_endpoint": f"{root}/oauth/authorize",
        "token_endpoint": f"{root}/oauth/token",
        "registration_endpoint": f"{root}/oauth/register",
        "revocation_endpoint": f"{root}/oauth/revoke",
        "response_types_supported": ["code"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["none"],
        "scopes_supported": list(OAUTH_SCOPES),
    }


def handle(handler: BaseHTTPRequestHandler, method: str, state: SandboxState) -> None:
    """Answers a request for one of the OAuth paths."""
    store = store_of(state)
    url = urlsplit(handler.path)
    host = handler.headers.get("Host") or "{}:{}".format(*handler.server.server_address[:2])
    root = f"http://{host}"
    length = int(handler.headers.get("Content-Length") or 0)
    raw = handler.rfile.read(length) if length else b""
    query = {k: v[0] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
    try:
        if (method, url.path) == ("GET", "/.well-known/oauth-authorization-server"):
            _json(handler, 200, metadata(root))
        elif (method, url.path) == ("POST", "/oauth/register"):
            try:
                body = json.loads(raw or b"{}")
            except ValueError:
                raise OAuthError("invalid_client_metadata", "Body is not JSON.") from None
            if not isinstance(body, dict):
                raise OAuthError("invalid_client_metadata", "Body must be a JSON object.")
            client = store.register(body)
            _json(
                handler,
                201,
                {
                    "client_id": client.id,
                    "client_name": client.name,
                    "redirect_uris": list(client.redirect_uris),
                    "scope": client.scope,
                    "token_endpoint_auth_method": "none",
                    "grant_types": ["authorization_code", "refresh_token"],
                },
            )
        elif (method, url.path) == ("GET", "/oauth/authorize"):
            _authorize_page(handler, store, query)
        elif (method, url.path) == ("POST", "/oauth/authorize"):
            form = _form(raw)
            _authorize_decision(handler, store, form)
        elif (method, url.path) == ("POST", "/oauth/token"):
            _json(handler, 200, store.token(_form(raw)), {"Cache-Control": "no-store"})
        elif (method, url.path) == ("POST", "/oauth/revoke"):
            store.revoke_token(_form(raw).get("token", ""))
            _json(handler, 200, {})
        else:
            raise OAuthError("not_found", f"No OAuth route {method} {url.path}.", 404)
    except OAuthError as error:
        _json(handler, error.status, {"error": error.error, "error_description": error.description})


def _form(raw: bytes) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(raw.decode("utf-8", "replace")).items()}


def _json(handler, status: int, payload: dict, headers: dict | None = None) -> None:
    body = json.dumps(payload).encode()
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(body)))
    for name, value in (headers or {}).items():
        handler.send_header(name, value)
    handler.end_headers()
    handler.wfile.write(body)


def _redirect(handler, location: str) -> None:
    handler.send_response(302)
    handler.send_header("Location", location)
    handler.send_header("Content-Length", "0")
    handler.end_headers()


def _back(redirect_uri: str, **params: str) -> str:
    joiner = "&" if urlsplit(redirect_uri).query else "?"
    return redirect_uri + joiner + urlencode({k: v for k, v in params.items() if v is not None})


def _html(handler, status: int, body: str) -> None:
    data = body.encode()
    handler.send_response(status)
    handler.send_header("Content-Type", "text/html; charset=utf-8")
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    handler.wfile.write(data)


# The consent page speaks the browser's language, English or German (#30), from the
# sandbox's own catalogue (scripe_integration/locale): stdlib gettext, since the sandbox runs
# without Django and never depends on the calendar.
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
PAGE_LANGUAGES = ("en", "de")


def _language(handler) -> str:
    """The first of the page's languages the browser's Accept-Language asks for (by weight)."""
    wanted = []
    for position, part in enumerate((handler.headers.get("Accept-Language") or "").split(",")):
        code, _sep, params = part.strip().partition(";")
        weight = 1.0
        if params.strip().startswith("q="):
            try:
                weight = float(params.strip()[2:])
            except ValueError:
                weight = 0.0
        wanted.append((-weight, position, code.strip().lower().split("-")[0]))
    for _weight, _position, code in sorted(wanted):
        if code in PAGE_LANGUAGES:
            return code
    return "en"


def _translator(language: str):
    return gettext.translation("django", LOCALE_DIR, languages=[language], fallback=True).gettext


PAGE = """<!doctype html><html lang="{lang}"><head><meta charset="utf-8">
<link rel="icon" href="data:,"><title>{title} - Scripe sandbox</title>
<style>body{{font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem}}
button{{font-size:1rem;padding:.5rem 1.2rem;margin-right:.5rem}}</style></head>
<body><h1>{title}</h1>{content}</body></html>"""


def _authorize_page(handler, store: OAuthStore, query: dict[str, str]) -> None:
    try:
        client, redirect_uri = store.check_authorize(query)
    except OAuthError as error:
        # Never redirect to an address the client did not register.
        _cannot(handler, error)
        return
    try:
        _, scopes = store.check_pkce(client, query)
    except OAuthError as error:
        _redirect(
            handler,
            _back(
                redirect_uri,
                error=error.error,
                error_description=error.description,
                state=query.get("state"),
            ),
        )
        return
    language = _language(handler)
    _ = _translator(language)
    default = store.state.workspace["id"]
    choices = "".join(
        f'<label><input type="radio" name="workspace_id" value="{html.escape(w["id"])}"'
        f"{' checked' if w['id'] == default else ''}> {html.escape(w['name'])}</label><br>"
        for w in store.workspaces()
    )
    hidden = "".join(
        f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
        for k, v in query.items()
    )
    content = (
        _p(html.escape(_("Signed in to the Scripe sandbox as %(name)s.") % {"name": USER["name"]}))
        + _p(
            html.escape(
                _("%(client)s asks to act for you in Scripe with these permissions: %(scopes)s.")
            )
            % {
                "client": f"<strong>{html.escape(client.name)}</strong>",
                "scopes": html.escape(", ".join(scopes)),
            }
        )
        + f'<form method="post" action="/oauth/authorize">{hidden}'
        + f"<fieldset><legend>{html.escape(_('Default workspace'))}</legend>{choices}</fieldset><p>"
        + _button("approve", _("Approve"))
        + _button("deny", _("Deny"))
        + "</p></form>"
    )
    title = _("Authorize access to Scripe")
    _html(handler, 200, PAGE.format(lang=language, title=html.escape(title), content=content))


def _authorize_decision(handler, store: OAuthStore, form: dict[str, str]) -> None:
    try:
        client, redirect_uri = store.check_authorize(form)
    except OAuthError as error:
        _cannot(handler, error)
        return
    state = form.get("state")
    try:
        challenge, scopes = store.check_pkce(client, form)
    except OAuthError as error:
        _redirect(
            handler,
            _back(
                redirect_uri, error=error.error, error_description=error.description, state=state
            ),
        )
        return
    if form.get("decision") != "approve":
        _redirect(
            handler,
            _back(
                redirect_uri,
                error="access_denied",
                error_description="The user denied access.",
                state=state,
            ),
        )
        return
    code = store.approve(client, redirect_uri, challenge, scopes, form.get("workspace_id") or "")
    _redirect(handler, _back(redirect_uri, code=code, state=state))


def _cannot(handler, error: OAuthError) -> None:
    language = _language(handler)
    _ = _translator(language)
    content = _p(html.escape(error.description))
    title = html.escape(_("Cannot authorize"))
    _html(handler, 400, PAGE.format(lang=language, title=title, content=content))


def _button(decision: str, text: str) -> str:
    return f'<button type="submit" name="decision" value="{decision}">{html.escape(text)}</button>'


def _p(text: str) -> str:
    return f"<p>{text}</p>"
