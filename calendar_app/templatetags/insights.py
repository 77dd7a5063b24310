"""Insights (#18) in other pages: the estimated cost beside Generate and Send back, and
whether the top bar shows the admins' spend gauge. No queries."""

from __future__ import annotations

from django import template
from django.utils.translation import gettext as _

from calendar_app.access import viewer_for
from scripe_integration.plans import GENERATION_CENTS

register = template.Library()


@register.simple_tag
def generation_cost() -> str:
    """What one generation costs of Scripe's daily spend cap, in words."""
    return _("about %(cents)s ¢") % {"cents": GENERATION_CENTS}


def _has_role(request, role: str) -> bool:
    """The signed-in person has the role in some workspace (read from the memberships the
    request already loaded)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return False
    return bool(viewer_for(request).workspaces_with(role))


@register.filter
def manages(request) -> bool:
    return _has_role(request, "manager")


@register.filter
def administers(request) -> bool:
    return _has_role(request, "admin")
