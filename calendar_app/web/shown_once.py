"""A secret shown once, after a POST-redirect-GET: the POST that made it keeps it in the
session and redirects; the page it lands on takes it (gone from the session as it is shown),
so a reload neither makes another one nor shows this one again.

Sessions are rows in the database, so the secret waits there encrypted, as every secret of
ours is stored, for the one request between the redirect and the page."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers

from scripe_integration import crypto

PREFIX = "shown-once:"


def keep(request: HttpRequest, name: str, secret: str, /, **about: str) -> None:
    """Keeps `secret` (and what the page says about it, like a token's name) for the page
    that shows `name`."""
    request.session[PREFIX + name] = {**about, "secret": crypto.encrypt(secret)}


def take(request: HttpRequest, name: str) -> dict[str, str] | None:
    """The kept secret and its details, removed from the session; None if there is none (a
    reload, another tab got it first, or the encryption keys changed meanwhile)."""
    kept = request.session.pop(PREFIX + name, None)
    if not isinstance(kept, dict):
        return None
    try:
        return {**kept, "secret": crypto.decrypt(kept["secret"])}
    except (crypto.DecryptionError, KeyError):
        return None


def uncached(response: HttpResponse) -> HttpResponse:
    """A page showing a secret stays out of every cache (the browser's back button too)."""
    add_never_cache_headers(response)
    return response
