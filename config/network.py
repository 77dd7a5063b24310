"""Who is on the other end, for login throttling: the client's address, and how many log-ins
from it failed."""

from __future__ import annotations

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_failure_limit
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum
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


class AddressLimitHandler(AxesDatabaseHandler):
    """django-axes' database handler with a second limit: LOGIN_ADDRESS_FAILURE_LIMIT failures
    from one address, whatever the usernames, pause every log-in from it (password spraying),
    on top of AXES_FAILURE_LIMIT for one username from one address.

    Axes compares one limit with the most failures of any of its lockout parameters, so it
    cannot give the address alone a higher limit of its own; its maintainers point to a handler
    for that (jazzband/django-axes#661, #1273). The address's failures are counted here, not
    named in AXES_LOCKOUT_PARAMETERS: there, a successful log-in (AXES_RESET_ON_SUCCESS) would
    delete them for every username, and a sprayer with one account of their own could log in
    now and then to go on."""

    def get_failures(self, request: HttpRequest, credentials: dict | None = None) -> int:
        failures = super().get_failures(request, credentials)
        from_address = AccessAttempt.objects.filter(
            ip_address=request.axes_ip_address,
            attempt_time__gte=get_cool_off_threshold(request),
        ).aggregate(total=Sum("failures_since_start"))["total"]
        # The lock-out page (registration/locked_out.html) says which pause this is.
        request.paused_for_address = (from_address or 0) >= settings.LOGIN_ADDRESS_FAILURE_LIMIT
        if request.paused_for_address:
            # Axes locks out when the failures reach its limit.
            return max(failures, get_failure_limit(request, credentials))
        return failures
