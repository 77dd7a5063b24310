"""Pieces of the top bar that other answers carry out of band: the bell with its unread count,
and the Review count in the menu. The live endpoint sends each only when it moved."""

from __future__ import annotations

from django.http import HttpRequest
from django.template.loader import render_to_string


def bell_html(request: HttpRequest, unread: int, *, oob: bool = False) -> str:
    """The bell, for a page or (out of band) inside another answer."""
    context = {"unread": unread, "oob": oob}
    return render_to_string("notifications/bell.html#bell", context, request=request)


def review_count_html(count: int, *, oob: bool = False) -> str:
    """The Review count in the top menu, for a page or (out of band) inside another answer."""
    return render_to_string("base.html#review-count", {"waiting": count, "oob": oob})
