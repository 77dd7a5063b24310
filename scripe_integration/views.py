"""The OAuth callback: where Scripe sends the admin's browser back after they approved (or
denied) "Connect with Scripe". The connection was started by `admin.ScripeOAuthAdminMixin`;
this view checks the `state` against the one kept in the session, checks again that the
person may change the workspace (through the same ModelAdmin), and exchanges the code."""

from __future__ import annotations

import secrets

from django.apps import apps
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponseRedirect
from django.urls import reverse
from django.views.decorators.debug import sensitive_variables
from django.views.decorators.http import require_GET

from scripe_integration.admin import OAUTH_SESSION_KEY
from scripe_integration.services import oauth_complete

NOT_STARTED_HERE = (
    "The answer from Scripe does not match a connection started here (it may be old, or "
    "from another browser), so nothing was changed. Press “Connect with Scripe” again."
)


def _owner_admin():
    """The ModelAdmin of the host's connection owner (its workspace), which holds the rule
    for who may change one."""
    model = apps.get_model(settings.SCRIPE_CONNECTION_OWNER_MODEL)
    return admin.site.get_model_admin(model)


@require_GET
@sensitive_variables("pending", "code")
def oauth_callback(request: HttpRequest):
    pending = request.session.get(OAUTH_SESSION_KEY) or {}
    state = request.GET.get("state", "")
    if not pending or not state or not secrets.compare_digest(state, pending.get("state", "")):
        # Left in the session: a forged answer must not cancel the admin's own attempt.
        messages.error(request, NOT_STARTED_HERE)
        return HttpResponseRedirect(reverse("admin:index"))
    del request.session[OAUTH_SESSION_KEY]  # a state is answered once
    model_admin = _owner_admin()
    owner = model_admin.get_queryset(request).filter(pk=pending["owner"]).first()
    if owner is None:
        raise Http404
    if not model_admin.has_change_permission(request, owner):
        raise PermissionDenied
    opts = model_admin.opts
    change = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[owner.pk])
    error = request.GET.get("error")
    code = request.GET.get("code", "")
    if error or not code:
        if error == "access_denied":
            said = "The connection was not approved in Scripe"
        else:
            detail = request.GET.get("error_description") or error or "no code"
            said = f"Scripe did not connect ({detail[:200]})"
        messages.error(request, f"{owner}: {said}; nothing was changed.")
        return HttpResponseRedirect(change)
    done, message = oauth_complete(
        workspace=owner,
        base_url=pending["base_url"],
        code=code,
        code_verifier=pending["verifier"],
        redirect_uri=pending["redirect_uri"],
        by=request.user,
    )
    messages.add_message(
        request, messages.SUCCESS if done else messages.ERROR, f"{owner}: {message}"
    )
    return HttpResponseRedirect(change)
