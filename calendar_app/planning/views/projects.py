"""The workspace's Scripe projects, and the Sync button for managers and admins."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.http import require_GET, require_POST

from calendar_app.access import viewer_for, workspace_for
from calendar_app.core.refusals import Refusal
from calendar_app.knowledge.selectors import knowledge_counts_for
from calendar_app.models import Role
from calendar_app.pipeline import sync
from calendar_app.planning import selectors, services
from calendar_app.web.answers import done, refused
from scripe_integration.contract import ScripeError
from scripe_integration.services import ScripeNotConfigured, describe_error


@login_required
@require_GET
def project_list(request: HttpRequest) -> HttpResponse:
    viewer = viewer_for(request)
    projects = list(selectors.visible_projects(viewer))
    # Each project's knowledge base (#26) with how many documents it holds.
    counts = knowledge_counts_for(viewer.workspace_ids)
    for project in projects:
        project.knowledge_count = counts.get((project.workspace_id, project.pk), 0)
    groups = [
        {
            "workspace": m.workspace,
            "can_sync": m.has_role(Role.MANAGER),
            "projects": [p for p in projects if p.workspace_id == m.workspace_id],
            "knowledge_count": counts.get((m.workspace_id, None), 0),
        }
        for m in viewer.memberships
    ]
    return render(request, "calendar_app/projects.html", {"groups": groups})


@login_required
@require_POST
def project_sync(request: HttpRequest, workspace_id) -> HttpResponse:
    workspace = workspace_for(
        viewer_for(request), workspace_id, role=Role.MANAGER, to=gettext_noop("sync projects")
    )
    here = reverse("projects")
    try:
        result = services.projects_sync(workspace=workspace)
    except ScripeNotConfigured as error:
        return refused(request, Refusal(error.said), redirect_to=here)
    except ScripeError as error:
        return refused(
            request,
            Refusal(_("Sync failed: %(error)s") % {"error": describe_error(error)}),
            redirect_to=here,
        )
    return done(
        request,
        _("Projects synced from Scripe: %(summary)s") % {"summary": result.summary()},
        redirect_to=here,
    )


@login_required
@require_POST
def posts_sync(request: HttpRequest, workspace_id) -> HttpResponse:
    """Sync now: reads back from Scripe, in a task, what happened to the workspace's approved
    posts and drafts (the every-minute sweep does the same for what is due)."""
    workspace = workspace_for(
        viewer_for(request), workspace_id, role=Role.MANAGER, to=gettext_noop("sync posts")
    )
    sync.sync_request(workspace=workspace)
    return done(
        request,
        _("Reading back from Scripe: what changed there shows on the calendar in a moment."),
        redirect_to=reverse("home"),
    )
