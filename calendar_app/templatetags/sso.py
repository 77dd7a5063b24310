"""Single sign-on on shared pages: the "Sign in with <company>" buttons of the log-in page,
and the workspaces whose single sign-on the viewer administers, for the settings page."""

from __future__ import annotations

from django import template

from calendar_app.access import viewer_for
from calendar_app.accounts import sso
from calendar_app.models import Role

register = template.Library()


@register.simple_tag
def sso_providers() -> list:
    return sso.sso_enabled()


@register.simple_tag(takes_context=True)
def sso_administered(context) -> list:
    request = context.get("request")
    if request is None or not request.user.is_authenticated:
        return []
    return sso.sso_by_workspace(viewer_for(request).workspaces_with(Role.ADMIN))
