"""Signing out one's own sessions from the settings page (#28): one of them, or all the others.
The list itself is the settings page's (templates/accounts/sessions.html)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from calendar_app.accounts import sessions

BACK = "#sessions"


@login_required
@require_POST
def session_end(request: HttpRequest, public_id: str) -> HttpResponse:
    if sessions.session_end(request=request, public_id=public_id):
        # It was this one: the person is signed out here, and says so on the log-in page.
        return redirect("login")
    messages.success(request, _("That session is signed out."))
    return redirect(reverse("settings") + BACK)


@login_required
@require_POST
def sessions_end_others(request: HttpRequest) -> HttpResponse:
    ended = sessions.sessions_end_others(request=request)
    if ended:
        message = ngettext(
            "%(count)d other session signed out.", "%(count)d other sessions signed out.", ended
        ) % {"count": ended}
    else:
        message = _("You had no other sessions.")
    messages.success(request, message)
    return redirect(reverse("settings") + BACK)
