"""Labels (#15): managers keep their workspace's labels on one page (add, rename, recolour,
delete); editors pick them on the slot form."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.http import require_GET, require_POST

from calendar_app.access import Viewer, label_for, viewer_for, workspace_for
from calendar_app.core.refusals import Refusal
from calendar_app.models import Role
from calendar_app.planning import labels as label_services
from calendar_app.planning import selectors
from calendar_app.planning.forms import LabelForm
from calendar_app.web.answers import done, refused, show_on_form

TEMPLATE = "labels/labels.html"


def _groups(viewer: Viewer, form: LabelForm | None = None, form_for=None) -> list[dict]:
    labels = list(selectors.visible_labels(viewer))
    return [
        {
            "workspace": m.workspace,
            "can_manage": m.has_role(Role.MANAGER),
            "labels": [label for label in labels if label.workspace_id == m.workspace_id],
            "form": form if form_for == m.workspace_id else LabelForm(),
        }
        for m in viewer.memberships
    ]


def _page(request: HttpRequest, viewer: Viewer, **kwargs) -> HttpResponse:
    return render(request, TEMPLATE, {"groups": _groups(viewer, **kwargs)})


@login_required
@require_GET
def label_list(request: HttpRequest) -> HttpResponse:
    return _page(request, viewer_for(request))


@login_required
@require_POST
def label_add(request: HttpRequest, workspace_id) -> HttpResponse:
    viewer = viewer_for(request)
    workspace = workspace_for(
        viewer, workspace_id, role=Role.MANAGER, to=gettext_noop("manage labels")
    )
    form = LabelForm(request.POST)
    try:
        if not form.is_valid():
            raise Refusal(fields={"colour": _("Pick one of the colours.")})
        label = label_services.label_create(workspace=workspace, **form.cleaned_data)
    except Refusal as refusal:
        show_on_form(form, refusal)
        return _page(request, viewer, form=form, form_for=workspace.pk)
    return done(
        request,
        _("Label %(name)s added.") % {"name": repr(label.name)},
        redirect_to=reverse("labels"),
    )


@login_required
@require_POST
def label_edit(request: HttpRequest, public_id) -> HttpResponse:
    label = label_for(viewer_for(request), public_id, to=gettext_noop("manage labels"))
    form = LabelForm(request.POST)
    here = reverse("labels")
    try:
        if not form.is_valid():
            raise Refusal(fields={"colour": _("Pick one of the colours.")})
        label_services.label_update(label=label, **form.cleaned_data)
    except Refusal as refusal:
        return refused(request, refusal, redirect_to=here)
    return done(request, _("Label %(name)s saved.") % {"name": repr(label.name)}, redirect_to=here)


@login_required
@require_POST
def label_delete(request: HttpRequest, public_id) -> HttpResponse:
    label = label_for(viewer_for(request), public_id, to=gettext_noop("manage labels"))
    label_services.label_delete(label=label)
    return done(
        request,
        _("Label %(name)s deleted.") % {"name": repr(label.name)},
        redirect_to=reverse("labels"),
    )
