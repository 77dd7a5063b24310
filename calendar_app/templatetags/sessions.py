"""The settings page's sessions section reads its list here, so the section is one include
(templates/accounts/sessions.html) that needs nothing from the page's view."""

from __future__ import annotations

from django import template

from calendar_app.accounts.sessions import sessions_of

register = template.Library()


@register.simple_tag(takes_context=True)
def signed_in_sessions(context):
    return sessions_of(context["request"])
