"""What every page's template may use: the product's name, how often its live updates ask,
and the banner about a workspace whose Scripe key blocks generation or whose Scripe does not
answer."""

from __future__ import annotations

from functools import partial

from django.conf import settings
from django.http import HttpRequest

from calendar_app.access import viewer_for
from calendar_app.review.selectors import review_count


def site(request: HttpRequest) -> dict:
    return {
        "product_name": settings.PRODUCT_NAME,
        "live_poll_ms": settings.LIVE_POLL_SECONDS * 1000,
        "live_heartbeat_ms": settings.LIVE_HEARTBEAT_SECONDS * 1000,
    }


def key_banner(request: HttpRequest) -> dict:
    """A banner for members of a workspace whose Scripe key blocks generation."""
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {}
    viewer = viewer_for(request)
    # A callable, so the count is only queried on pages whose template shows it.
    return {
        "broken_keys": viewer.broken_keys,
        "review_count": partial(review_count, viewer),
        # The nav's Team link, for managers and admins (#28); the memberships are loaded.
        "manages_team": bool(viewer.managed_workspace_ids),
    }
