"""Bulk actions (#16): the action bar's one request, the run it starts (its progress and
per-slot results, polled every 2 s while it works), Undo of a bulk delete, move or label
change, and the bar for the calendar's select mode. The rules are in bulk/services.py and
the services it calls."""

from __future__ import annotations

import uuid

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import trigger_client_event

from calendar_app.access import bulk_run_for, viewer_for
from calendar_app.bulk import selectors as runs
from calendar_app.bulk import services as bulk
from calendar_app.bulk.forms import BulkForm
from calendar_app.core.refusals import Refusal
from calendar_app.models import UNDO_SECONDS, BulkAction
from calendar_app.planning import selectors
from calendar_app.planning.forms import filtered_slots
from calendar_app.web.answers import refused

TEMPLATE = "bulk/run.html"
# More ids than any selection may hold are not even read.
IDS_MAX = bulk.SELECTION_MAX + 1


def _ids(values: list[str]) -> list[uuid.UUID]:
    ids = []
    for value in values[:IDS_MAX]:
        try:
            ids.append(uuid.UUID(value))
        except (ValueError, AttributeError):
            continue  # not a slot of anyone's: ignored like an outsider's id
    return ids


def _answer_run(request: HttpRequest, run) -> HttpResponse:
    if not request.htmx:
        return redirect("bulk_run", public_id=run.public_id)
    response = render(request, TEMPLATE + "#bulk-run", _run_context(run))
    if run.finished_at is not None:
        trigger_client_event(response, "slots-changed", {})
        trigger_client_event(response, "bulk-done", {"action": run.action})
    return response


def _run_context(run) -> dict:
    counts = runs.run_counts(run)
    items = runs.run_items(run)
    return {
        "run": run,
        "title": runs.run_title(run),
        "undo_seconds": UNDO_SECONDS,
        "counts": counts,
        "items": items,
        "stalled": runs.run_stalled(run),
        "can_undo": runs.run_undoable(run),
        "undo_label": runs.UNDOABLE.get(run.action, ""),
        "no_undo": runs.NOT_UNDOABLE.get(run.action, "") if run.finished_at else "",
    }


@login_required
@require_POST
def bulk_apply(request: HttpRequest) -> HttpResponse:
    """One request for the whole selection: the run starts (a handful done at once, more by
    a task) and the answer is its progress, or its results."""
    viewer = viewer_for(request)
    back = reverse("slots")
    form = BulkForm(request.POST)
    if not form.is_valid():
        problems = " ".join(e for errors in form.errors.values() for e in errors)
        refusal = Refusal(problems or _("Pick an action."), status=422)
        return refused(request, refusal, redirect_to=back)
    data = form.cleaned_data
    label = None
    if data["label"]:
        label = selectors.visible_labels(viewer).filter(public_id=data["label"]).first()
    try:
        params = bulk.bulk_params(
            viewer=viewer,
            action=data["action"],
            days=data["days"],
            day=data["date"],
            label=label,
            reason=data["reason"],
        )
        if data["scope"] == "filter":
            filter_form, slots = filtered_slots(viewer, request.POST)
            if filter_form.is_bound and not filter_form.is_valid():
                raise Refusal(_("Fix the filter first: it does not say which posts."), status=422)
        else:
            ids = _ids(request.POST.getlist("slot"))
            slots = selectors.visible_slots(viewer).filter(public_id__in=ids)
        if data["action"] == BulkAction.GENERATE:
            bulk.spend_check(slots=slots, go_on=data["near_cap"])
        run = bulk.bulk_start(viewer=viewer, action=data["action"], slots=slots, params=params)
    except PermissionDenied as denied:
        return refused(request, Refusal(str(denied), status=403), redirect_to=back)
    except Refusal as refusal:
        return refused(request, refusal, redirect_to=back)
    return _answer_run(request, run)


@login_required
@require_GET
def bulk_run(request: HttpRequest, public_id) -> HttpResponse:
    """A run's progress and results: the page, the run (HTMX), or its poll's answer: the
    state under the run's heading, which says the end in the run's status line when it
    sees it."""
    run = bulk_run_for(viewer_for(request), public_id)
    if request.htmx and request.GET.get("poll"):
        # The poll swaps the run's state under its heading, which keeps focus if it has it.
        context = {**_run_context(run), "poll": True}
        response = render(request, TEMPLATE + "#bulk-run-state", context)
        if run.finished_at is not None:
            # The poll that sees the end: the list and calendar show what the run did.
            trigger_client_event(response, "slots-changed", {})
            trigger_client_event(response, "bulk-done", {"action": run.action})
        return response
    if request.htmx:
        return render(request, TEMPLATE + "#bulk-run", _run_context(run))
    return render(request, TEMPLATE, _run_context(run))


@login_required
@require_POST
def bulk_undo(request: HttpRequest, public_id) -> HttpResponse:
    """Undo of a bulk delete (every slot it deleted comes back, each within its undo time), a
    bulk move (each slot moves back) or a label's add or remove, as a run of its own."""
    viewer = viewer_for(request)
    run = bulk_run_for(viewer, public_id)
    try:
        undo = bulk.bulk_undo(viewer=viewer, run=run)
    except Refusal as refusal:
        return refused(request, refusal, redirect_to=reverse("bulk_run", args=[run.public_id]))
    return _answer_run(request, undo)


@login_required
@require_POST
def bulk_resume(request: HttpRequest, public_id) -> HttpResponse:
    """A run whose task was lost goes on with the slots it had not done."""
    run = bulk_run_for(viewer_for(request), public_id)
    bulk.bulk_resume(run=run)
    return _answer_run(request, run)


@login_required
@require_GET
def bulk_bar(request: HttpRequest) -> HttpResponse:
    """The action bar, for the calendar's select mode (the list renders it in its page)."""
    context = runs.bar_context(viewer_for(request))
    context["bulk_scope_filter"] = False
    return render(request, "bulk/bar.html#bulk-bar", context)
