"""The ideas board (#26): the board (a column per state) or the list, one URL with a view
switch; adding an idea; an idea's page (edit, "Plan on…", "Add to queue", pick, dismiss,
restore); where a drop on the calendar or a queue lands; the calendar's and queue's panel."""

from __future__ import annotations

import re

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from calendar_app.access import Viewer, idea_for, project_for, viewer_for
from calendar_app.core.calendar_grid import parse_clock, parse_day
from calendar_app.core.refusals import Refusal
from calendar_app.ideas import selectors, services
from calendar_app.ideas.forms import IdeaForm, PlanForm
from calendar_app.models import Idea, Label, Project, Role, Workspace
from calendar_app.web.answers import done, refused, show_on_form

BOARD = "ideas/board.html"
DETAIL = "ideas/detail.html"
VIEWS = ("board", "list")


def _idea_form(viewer: Viewer, **kwargs) -> IdeaForm:
    editable = viewer.editable_workspace_ids
    return IdeaForm(
        workspaces=Workspace.objects.filter(pk__in=editable).order_by("name"),
        projects=Project.objects.filter(workspace_id__in=editable).select_related("workspace"),
        labels=Label.objects.filter(workspace_id__in=editable),
        **kwargs,
    )


def _board(request: HttpRequest, *, form: IdeaForm | None = None) -> HttpResponse:
    viewer = viewer_for(request)
    view = request.GET.get("view") if request.GET.get("view") in VIEWS else "board"
    projects = _visible_projects(viewer)
    wanted = request.GET.get("project", "")
    project = next((p for p in projects if p.scripe_id == wanted), None) if wanted else None
    ideas = selectors.board_ideas(viewer, project=project)
    context = {
        "view": view,
        "columns": selectors.columns(ideas),
        "ideas": ideas,
        "count": len(ideas),
        "projects": projects,
        "project": project,
        "query": f"?view={view}" + (f"&project={project.scripe_id}" if project else ""),
        "can_plan": bool(viewer.editable_workspace_ids),
        "managed": set(viewer.managed_workspace_ids),
        "form": form or _idea_form(viewer),
        "zone": viewer.zone.key,
    }
    template = BOARD
    if request.htmx and not request.htmx.boosted:
        template += "#idea-form" if form is not None else "#ideas-board"
    return render(request, template, context)


def _visible_projects(viewer: Viewer) -> list[Project]:
    return list(
        Project.objects.filter(workspace_id__in=viewer.workspace_ids).order_by("name", "pk")
    )


@login_required
@require_GET
def ideas_board(request: HttpRequest) -> HttpResponse:
    return _board(request)


@login_required
@require_POST
def idea_add(request: HttpRequest) -> HttpResponse:
    viewer = viewer_for(request)
    if not viewer.editable_workspace_ids:
        raise Http404(_("No workspace to add ideas to."))
    form = _idea_form(viewer, data=request.POST)
    if form.is_valid():
        try:
            services.idea_create(
                viewer=viewer, workspace=form.target_workspace(), **form.fields_for_service()
            )
        except Refusal as refusal:
            show_on_form(form, refusal)
        else:
            fresh = _board(request, form=_idea_form(viewer)) if request.htmx else None
            return done(request, _("Idea added."), redirect_to=reverse("ideas"), response=fresh)
    # 200 as the post form answers: htmx swaps no 422 in (base.html), and the form with its
    # sentences is what should show.
    return _board(request, form=form)


@login_required
@require_http_methods(["GET", "POST"])
def idea_detail(request: HttpRequest, public_id) -> HttpResponse:
    """An idea's page; POST saves its edit form."""
    viewer = viewer_for(request)
    idea = idea_for(viewer, public_id)
    if request.method == "GET":
        return _idea_page(request, viewer, idea)
    form = _idea_form(viewer, data=request.POST)
    if form.is_valid():
        try:
            services.idea_update(viewer=viewer, idea=idea, **form.fields_for_service())
        except Refusal as refusal:
            if not refusal.fields:
                return refused(request, refusal, redirect_to=_here(idea))
            show_on_form(form, refusal)
        else:
            return done(request, _("Idea saved."), redirect_to=_here(idea))
    return _idea_page(request, viewer, idea, form=form)


def _here(idea: Idea) -> str:
    return reverse("idea", args=[idea.public_id])


def _idea_page(
    request: HttpRequest,
    viewer: Viewer,
    idea: Idea,
    *,
    form: IdeaForm | None = None,
    plan_form: PlanForm | None = None,
) -> HttpResponse:
    posts = selectors.idea_posts(idea)
    context = {
        "idea": idea,
        "posts": posts,
        "labels": list(idea.labels.all()),
        "form": form or _idea_form(viewer, initial=IdeaForm.initial_of(idea)),
        "plan_form": plan_form or PlanForm(),
        "can_plan": viewer.can(Role.EDITOR, idea.workspace_id),
        "can_manage": viewer.can(Role.MANAGER, idea.workspace_id),
        "zone": viewer.zone.key,
    }
    template = DETAIL + ("#idea-panel" if request.htmx and not request.htmx.boosted else "")
    return render(request, template, context)


def _planned_text(slot, viewer: Viewer) -> str:
    when = timezone.localtime(slot.scheduled_for, viewer.zone)
    words = {"when": date_format(when, _("D j M, H:i")), "zone": viewer.zone.key}
    return _("Planned for %(when)s (%(zone)s).") % words


@login_required
@require_POST
def idea_plan(request: HttpRequest, public_id) -> HttpResponse:
    """A drop on a day (or an hour of the week) or the "Plan on…" form: a post from the
    idea, through the planning rules. A drop is answered with a toast; the form shows a
    refusal next to its fields."""
    viewer = viewer_for(request)
    idea = idea_for(viewer, public_id)
    form = PlanForm(request.POST)
    if request.htmx:
        # A drop: the day (and hour) the card landed on.
        day = parse_day(request.POST.get("date", ""), showable=False)
        clock = parse_clock(request.POST.get("time", "")) if request.POST.get("time") else None
        if day is None or (request.POST.get("time") and clock is None):
            refusal = Refusal(_("Drop the idea on a day."), status=422)
            return refused(request, refusal, redirect_to=_here(idea))
        try:
            slot = services.idea_plan(viewer=viewer, idea=idea, day=day, clock=clock)
        except Refusal as refusal:
            return refused(request, refusal, redirect_to=_here(idea))
        return done(request, _planned_text(slot, viewer), redirect_to=_here(idea))
    if form.is_valid():
        try:
            slot = services.idea_plan(
                viewer=viewer,
                idea=idea,
                day=form.cleaned_data["date"],
                clock=form.cleaned_data["time"],
                request_key=form.cleaned_data["request_key"],
            )
        except Refusal as refusal:
            if not refusal.fields:
                return refused(request, refusal, redirect_to=_here(idea))
            show_on_form(form, refusal)
        else:
            return done(
                request,
                _planned_text(slot, viewer),
                redirect_to=reverse("slot", args=[slot.public_id]),
            )
    return _idea_page(request, viewer, idea, plan_form=form)


@login_required
@require_POST
def idea_queue(request: HttpRequest, public_id) -> HttpResponse:
    """ "Add to queue" on the idea, or the idea dropped on a queue page (`project`: that
    queue's project, else the idea's own)."""
    viewer = viewer_for(request)
    idea = idea_for(viewer, public_id)
    project = None
    if request.POST.get("project"):
        project = project_for(viewer, request.POST["project"])
    try:
        queued = services.idea_queue(
            viewer=viewer,
            idea=idea,
            project=project,
            request_key=_request_key(request),
        )
    except Refusal as refusal:
        return refused(request, refusal, redirect_to=_here(idea))
    when = timezone.localtime(queued.slot.scheduled_for, viewer.zone)
    words = {"when": date_format(when, _("D j M, H:i")), "zone": viewer.zone.key}
    text = _("Queued for %(when)s (%(zone)s).") % words
    return done(request, text, redirect_to=_here(idea))


def _request_key(request: HttpRequest) -> str:
    # Only a key the page made counts (a double click sends it twice); else none.
    key = request.POST.get("request_key", "")
    return key if re.fullmatch(r"[0-9a-f]{32}", key) else ""


# Marked here, translated when said: the module is read before any request's language.
ACTIONS = {
    "pick": (services.idea_pick, gettext_noop("Picked: the team sees you are on it.")),
    "unpick": (services.idea_unpick, gettext_noop("Back among the new ideas.")),
    "dismiss": (services.idea_dismiss, gettext_noop("Dismissed for the whole workspace.")),
    "restore": (services.idea_restore, gettext_noop("Restored.")),
}


@login_required
@require_POST
def idea_state(request: HttpRequest, public_id) -> HttpResponse:
    """Pick, put back, dismiss or restore; answered like every state change (a toast for
    HTMX, a message and the board otherwise)."""
    viewer = viewer_for(request)
    idea = idea_for(viewer, public_id)
    action = ACTIONS.get(request.POST.get("action", ""))
    back = reverse("ideas") if request.POST.get("back") == "board" else _here(idea)
    if action is None:
        return refused(
            request, Refusal(_("Choose pick, dismiss or restore."), status=422), redirect_to=back
        )
    change, said = action
    try:
        change(viewer=viewer, idea=idea)
    except Refusal as refusal:
        return refused(request, refusal, redirect_to=back)
    return done(request, _(said), redirect_to=back)


@login_required
@require_GET
def ideas_panel(request: HttpRequest) -> HttpResponse:
    """The ideas beside the calendar and a queue, to drag onto a day or into the queue
    (`project`: a queue page's project, whose workspace's ideas it shows)."""
    viewer = viewer_for(request)
    workspace_id = None
    if request.GET.get("project"):
        workspace_id = project_for(viewer, request.GET["project"]).workspace_id
    ideas = selectors.panel_ideas(viewer, workspace_id=workspace_id)
    return render(
        request,
        "ideas/panel.html",
        {
            "ideas": ideas,
            "can_plan": bool(viewer.editable_workspace_ids),
            "queue": workspace_id is not None,
        },
    )
