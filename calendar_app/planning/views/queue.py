"""The posting queue (#15): a page per project with its schedule and upcoming schedule times
(filled and empty), where managers edit the schedule, re-flow queued posts and reorder them
by dragging; and "Add to queue" / "Add to top of queue" from the new-post form."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from calendar_app.access import project_for, viewer_for
from calendar_app.core.refusals import Refusal
from calendar_app.models import Project, Role
from calendar_app.planning import queue, selectors
from calendar_app.planning.forms import ScheduleForm
from calendar_app.planning.views.post_form import generate_now, month_of, post_form_for, render_form
from calendar_app.web.answers import done, refused, show_on_form

TEMPLATE = "queue/queue.html"


def _page(
    request: HttpRequest, project: Project, *, form: ScheduleForm | None = None, status=200
) -> HttpResponse:
    viewer = viewer_for(request)
    label = selectors.label_in(project.workspace_id, request.GET.get("label", ""))
    page = selectors.queue_page(project, label=label)
    context = {
        "page": page,
        "project": project,
        "labels": list(selectors.labels_in([project.workspace_id])),
        "label": label,
        "zone": project.workspace.time_zone,
        "can_manage": viewer.can(Role.MANAGER, project.workspace_id),
        # The ideas panel and the drop zone for ideas (#26).
        "can_plan": viewer.can(Role.EDITOR, project.workspace_id),
        "schedule_form": form or ScheduleForm(initial=queue.schedule_form_values(page.schedule)),
        "off_count": len(page.off_schedule),
    }
    template = TEMPLATE + ("#queue-times" if request.htmx and form is None else "")
    return render(request, template, context, status=status)


@login_required
@require_GET
def queue_index(request: HttpRequest) -> HttpResponse:
    """Every project's queue: its schedule in a line, and a link."""
    viewer = viewer_for(request)
    projects = list(selectors.visible_projects(viewer).prefetch_related("schedule_times"))
    for project in projects:
        project.schedule_text = queue.describe_schedule(
            (t.weekday, t.time) for t in project.schedule_times.all()
        )
    return render(request, "queue/index.html", {"projects": projects})


@login_required
@require_GET
def queue_view(request: HttpRequest, project_id: str) -> HttpResponse:
    return _page(request, project_for(viewer_for(request), project_id))


@login_required
@require_POST
def schedule_edit(request: HttpRequest, project_id: str) -> HttpResponse:
    project = project_for(
        viewer_for(request), project_id, to=gettext_noop("change the posting schedule")
    )
    form = ScheduleForm(request.POST)
    here = reverse("queue", args=[project.scripe_id])
    try:
        if not form.is_valid():
            raise Refusal(_("Each day takes at most 200 characters of times."), status=422)
        off = queue.schedule_set(project=project, schedule=queue.parse_schedule(form.days()))
    except Refusal as refusal:
        show_on_form(form, refusal)
        return _page(request, project, form=form)
    text = _("Posting schedule saved.")
    if off:
        text += " " + ngettext(
            "%(count)s queued post now sit off it: re-flow them?",
            "%(count)s queued posts now sit off it: re-flow them?",
            off,
        ) % {"count": off}
    return done(request, text, redirect_to=here)


@login_required
@require_POST
def queue_reflow(request: HttpRequest, project_id: str) -> HttpResponse:
    project = project_for(viewer_for(request), project_id, to=gettext_noop("re-flow the queue"))
    here = reverse("queue", args=[project.scripe_id])
    try:
        moved = queue.queue_reflow(project=project)
    except Refusal as refusal:
        return refused(request, refusal, redirect_to=here)
    return done(
        request,
        ngettext(
            "Queue re-flowed: %(count)s post moved.",
            "Queue re-flowed: %(count)s posts moved.",
            moved,
        )
        % {"count": moved},
        redirect_to=here,
    )


@login_required
@require_POST
def queue_reorder(request: HttpRequest, project_id: str) -> HttpResponse:
    project = project_for(viewer_for(request), project_id, to=gettext_noop("reorder the queue"))
    here = reverse("queue", args=[project.scripe_id])
    try:
        moved = queue.queue_reorder(project=project, order=request.POST.getlist("order"))
    except Refusal as refusal:
        return refused(request, refusal, redirect_to=here)
    return done(request, _("Queue reordered.") if moved else "", redirect_to=here)


@login_required
@require_http_methods(["POST"])
def queue_add(request: HttpRequest) -> HttpResponse:
    """The new-post form's "Add to queue" (`top`: "Add to top of queue"): the form's fields
    without its day and time, which the queue chooses."""
    viewer = viewer_for(request)
    if not viewer.editable_workspace_ids:
        raise Http404(_("No workspace to plan in."))
    form = post_form_for(viewer, data=request.POST)
    form.fields["time"].required = False  # the queue picks the time
    top = request.POST.get("position") == "top"
    queued = None
    if form.is_valid():
        fields = form.plan()
        del fields["day"], fields["clock"]
        try:
            queued = queue.queue_add(
                user=request.user,
                top=top,
                request_key=form.cleaned_data["request_key"],
                **fields,
            )
        except Refusal as refusal:
            show_on_form(form, refusal)
    if queued is None:
        return render_form(request, viewer, form)
    slot = queued.slot
    when = timezone.localtime(slot.scheduled_for, viewer.zone)
    words = {"when": date_format(when, _("D j M, H:i")), "zone": viewer.zone.key}
    if top:
        text = _("Queued first, for %(when)s (%(zone)s).") % words
    else:
        text = _("Queued for %(when)s (%(zone)s).") % words
    if queued.moved:
        # Other people's posts changed time: the person who moved them is told how many.
        text += " " + ngettext(
            "%(count)s queued post moved one time later.",
            "%(count)s queued posts moved one time later.",
            queued.moved,
        ) % {"count": queued.moved}
    if form.cleaned_data.get("generate_now"):
        text += generate_now(slot, request.user)
    return done(request, text, redirect_to=month_of(slot))
