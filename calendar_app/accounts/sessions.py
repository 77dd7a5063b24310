"""A person's signed-in sessions (#28), from django-allauth's usersessions: which device (named
from its user agent by ua-parser), from which address (and place, only where a GeoIP database
is configured: nothing is looked up over the network), when last seen; signing out one of
them or all the others. A password change signs out the others.

allauth records a session when someone signs in. Its per-request tracking
(USERSESSIONS_TRACK_ACTIVITY) would write on every request, so `session_seen` refreshes the
row at most every SEEN_STEP instead, keeping its own time in the session."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from allauth.account.signals import password_changed, password_reset, user_logged_in
from allauth.usersessions.internal.flows.sessions import end_sessions
from allauth.usersessions.models import UserSession
from django.conf import settings
from django.contrib.sessions.models import Session
from django.dispatch import receiver
from django.http import Http404, HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ua_parser import parse

logger = logging.getLogger(__name__)

SEEN_STEP = timedelta(minutes=5)
SEEN_KEY = "_seen_at"


def session_public_id(session_key: str) -> str:
    """How a page names a session: never its key, which would sign anyone in."""
    return hashlib.sha256(session_key.encode()).hexdigest()[:32]


@dataclass(frozen=True)
class SignedIn:
    public_id: str
    device: str
    ip: str
    place: str
    created_at: datetime
    last_seen_at: datetime
    current: bool


def device_name(user_agent: str) -> str:
    """ "Firefox on Ubuntu", "Mobile Safari on iOS (iPhone)"; "Unknown device" when the agent
    says nothing recognisable."""
    parsed = parse(user_agent or "")
    browser = parsed.user_agent.family if parsed.user_agent else ""
    system = parsed.os.family if parsed.os else ""
    device = parsed.device.family if parsed.device and parsed.device.family != "Other" else ""
    if not browser or browser == "Other":
        return _("Unknown device")
    name = (
        _("%(browser)s on %(system)s") % {"browser": browser, "system": system}
        if system
        else browser
    )
    return f"{name} ({device})" if device and device not in name else name


@cache
def _geoip():
    """Django's GeoIP2 over the database at settings.GEOIP_PATH, when one is configured and
    readable; None otherwise (the place is then left out)."""
    if not getattr(settings, "GEOIP_PATH", None):
        return None
    try:
        from django.contrib.gis.geoip2 import GeoIP2

        return GeoIP2()
    except Exception as error:  # no geoip2 library, no database file: no places
        logger.warning("GeoIP not available: %s", error)
        return None


def place_of(ip: str) -> str:
    geoip = _geoip()
    if geoip is None or not ip:
        return ""
    try:
        city = geoip.city(ip)
    except Exception:  # a private or unknown address has no place
        return ""
    return ", ".join(part for part in (city.get("city"), city.get("country_name")) if part)


def sessions_of(request: HttpRequest) -> list[SignedIn]:
    """The signed-in person's live sessions, the current one first, then the last seen first.
    Two queries whatever their number: the rows, and which of their Django sessions still
    exist (an expired or ended one is not shown)."""
    rows = list(UserSession.objects.filter(user_id=request.user.pk))
    live = set(
        Session.objects.filter(
            session_key__in=[row.session_key for row in rows], expire_date__gt=timezone.now()
        ).values_list("session_key", flat=True)
    )
    current = request.session.session_key
    shown = [
        SignedIn(
            public_id=session_public_id(row.session_key),
            device=device_name(row.user_agent),
            ip=row.ip,
            place=place_of(row.ip),
            created_at=row.created_at,
            last_seen_at=row.last_seen_at,
            current=row.session_key == current,
        )
        for row in rows
        if row.session_key in live
    ]
    return sorted(shown, key=lambda s: (not s.current, -s.last_seen_at.timestamp()))


def session_end(*, request: HttpRequest, public_id: str) -> bool:
    """Signs out one of the person's sessions (404 for any other id); returns whether it was
    the current one (which is then signed out too)."""
    for row in UserSession.objects.filter(user_id=request.user.pk):
        if session_public_id(row.session_key) == public_id:
            current = row.session_key == request.session.session_key
            end_sessions(request, [row])
            return current
    raise Http404("No such session.")


def sessions_end_others(*, request: HttpRequest) -> int:
    """Signs out every session of the person but this one; returns how many."""
    others = list(
        UserSession.objects.filter(user_id=request.user.pk).exclude(
            session_key=request.session.session_key
        )
    )
    end_sessions(request, others)
    return len(others)


def session_seen(request: HttpRequest) -> None:
    """Refreshes the session's row (last seen, address, device) at most every SEEN_STEP, for
    sessions that signed in through allauth (which stamps them); others are left alone."""
    seen = request.session.get(SEEN_KEY)
    if seen is None:
        return
    now = timezone.now()
    if now.timestamp() - seen < SEEN_STEP.total_seconds():
        return
    request.session[SEEN_KEY] = now.timestamp()
    UserSession.objects.create_from_request(request)


@receiver(user_logged_in)
def _stamp(sender, request: HttpRequest, **kwargs) -> None:
    request.session[SEEN_KEY] = timezone.now().timestamp()


@receiver(password_changed)
@receiver(password_reset)
def _sign_out_the_others(sender, request: HttpRequest, user, **kwargs) -> None:
    """A new password signs out every other session at once (Django would refuse them at
    their next request anyway), so the list shows the truth right away."""
    others = UserSession.objects.filter(user_id=user.pk)
    if request.user.is_authenticated and request.session.session_key:
        others = others.exclude(session_key=request.session.session_key)
    end_sessions(request, list(others))
