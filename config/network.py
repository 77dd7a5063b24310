"""Who is on the other end: the client's address, for login throttling."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    """The address that connected to us; behind TRUSTED_PROXY_COUNT proxies that each append
    to X-Forwarded-For (nginx's $proxy_add_x_forwarded_for does), the address the outermost
    proxy saw. Never a value the client could write itself: the entries left of those the
    proxies added are ignored."""
    count = settings.TRUSTED_PROXY_COUNT
    if count:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if len(hops) >= count:
            return hops[-count]
    return request.META.get("REMOTE_ADDR", "")
