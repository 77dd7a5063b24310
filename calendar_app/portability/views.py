"""The exports page: an admin starts an export of a workspace, watches it become ready and
downloads the archive (only admins of that workspace, only while it has not expired)."""

from __future__ import annotations

import os

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from calendar_app.access import export_for, viewer_for, workspace_for
from calendar_app.core.refusals import Refusal
from calendar_app.models import Role
from calendar_app.portability import selectors, services
from calendar_app.web.answers import done, refused

TEMPLATE = "portability/exports.html"


@login_required
@require_GET
def export_list(request: HttpRequest) -> HttpResponse:
    """The page, or (HTMX, while one is being prepared) just the list that polls itself."""
    viewer = viewer_for(request)
    context = {"workspaces": selectors.exportable_workspaces(viewer)}
    template = TEMPLATE + "#export-list" if request.htmx else TEMPLATE
    return render(request, template, context)


@login_required
@require_POST
def export_start(request: HttpRequest, workspace_id) -> HttpResponse:
    viewer = viewer_for(request)
    workspace = workspace_for(viewer, workspace_id, role=Role.ADMIN, to=_("export a workspace"))
    try:
        services.workspace_export_request(workspace=workspace, user=request.user)
    except Refusal as refusal:
        return refused(request, refusal, redirect_to="exports")
    message = _("The export of %(name)s is being prepared; it appears here when ready.") % {
        "name": workspace.name
    }
    fragment = None
    if request.htmx:
        context = {"workspaces": selectors.exportable_workspaces(viewer)}
        fragment = render(request, TEMPLATE + "#export-list", context)
    return done(request, message, redirect_to="exports", response=fragment)


@login_required
@require_GET
def export_download(request: HttpRequest, public_id) -> HttpResponse:
    export = export_for(viewer_for(request), public_id)
    # A file gone from disk (EXPORT_DIR cleared by hand) is as gone as an expired one.
    if not export.is_downloadable or not os.path.exists(export.path):
        gone = Refusal(_("This export has expired; start a new one."), status=410)
        return refused(request, gone, redirect_to="exports")
    name = f"workspace-{export.workspace.public_id}-{export.created_at:%Y%m%d-%H%M}.zip"
    return FileResponse(open(export.path, "rb"), as_attachment=True, filename=name)
