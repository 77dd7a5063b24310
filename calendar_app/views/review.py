"""The review queue: every draft waiting for a manager, reviewed in place one after another.

Each action answers with the whole `#review` fragment, with the next draft already open, so
a manager clears a queue without leaving the page (and without the mouse: see app.js).
"""

from __future__ import annotations

import json
from datetime import date, time

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from calendar_app import review
from calendar_app.access import Viewer, slot_for, viewer_for
from calendar_app.calendar_grid import utc_bounds
from calendar_app.models import REVIEW_STATUSES, PlannedSlot, Project, Role
from calendar_app.scheduling import LocalTimeError, local_to_utc, time_choices

TEMPLATE = "calendar_app/review.html"


def _managed(viewer: Viewer) -> list[int]:
    if not viewer.managed_workspace_ids:
        raise PermissionDenied("Only a manager can review drafts.")
    return viewer.managed_workspace_ids


def _queue(request: HttpRequest, viewer: Viewer) -> tuple[list, dict]:
    workspaces = _managed(viewer)
    slots = (
        PlannedSlot.objects.alive()
        .for_cards()
        .filter(workspace_id__in=workspaces, status__in=REVIEW_STATUSES)
        .order_by("scheduled_for", "id")
    )
    filters = {"project": request.GET.get("project", ""), "date_from": "", "date_to": ""}
    if filters["project"]:
        slots = slots.filter(project__scripe_id=filters["project"])
    for name in ("date_from", "date_to"):
        try:
            day = date.fromisoformat(request.GET.get(name, ""))
        except ValueError:
            continue
        filters[name] = day.isoformat()
        start, end = utc_bounds(day, day, viewer.zone)
        if name == "date_from":
            slots = slots.filter(scheduled_for__gte=start)
        else:
            slots = slots.filter(scheduled_for__lt=end)
    projects = Project.objects.filter(workspace_id__in=workspaces)
    return list(slots), {"filters": filters, "projects": projects}


def _render(request: HttpRequest, selected_id=None, after=None, message: str = "") -> HttpResponse:
    viewer = viewer_for(request)
    slots, extra = _queue(request, viewer)
    selected = None
    if selected_id is not None:
        selected = next((s for s in slots if str(s.public_id) == str(selected_id)), None)
    if selected is None and after is not None:
        # The draft just handled has left the queue: open the one that came after it.
        later = [s for s in slots if (s.scheduled_for, s.pk) > after]
        selected = later[0] if later else (slots[0] if slots else None)
    if selected is None and slots:
        selected = slots[0]
    drafts = []
    if selected is not None:
        drafts = list(selected.jobs.exclude(post_content="").order_by("-attempt"))
    context = {
        "slots": slots,
        "selected": selected,
        "earlier_drafts": drafts[1:],
        "events": selected.events.select_related("actor") if selected else [],
        "zone": viewer.zone.key,
        "limit": review.LINKEDIN_LIMIT,
        "time_choices": time_choices(),
        **extra,
    }
    template = TEMPLATE + ("#review" if request.htmx else "")
    response = render(request, template, context)
    if message and request.htmx:
        response["HX-Trigger"] = json.dumps({"toast": {"message": message}})
    return response


@login_required
@require_GET
def review_queue(request: HttpRequest) -> HttpResponse:
    return _render(request, selected_id=request.GET.get("slot"))


def _act(request: HttpRequest, public_id, action) -> HttpResponse:
    slot = slot_for(request, public_id, to="review drafts", role=Role.MANAGER)
    position = (slot.scheduled_for, slot.pk)
    try:
        message = action(slot)
    except review.ReviewRefused as refusal:
        if request.htmx:
            return HttpResponse(str(refusal), status=409, content_type="text/plain")
        messages.error(request, str(refusal))
        return redirect(f"{reverse('review')}?slot={slot.public_id}")
    if not request.htmx:
        messages.success(request, message)
        return redirect("review")
    slot.refresh_from_db()
    stays = slot.status in REVIEW_STATUSES
    selected = slot.public_id if stays else None
    return _render(request, selected_id=selected, after=position, message=message)


@login_required
@require_POST
def review_save(request: HttpRequest, public_id) -> HttpResponse:
    return _act(
        request,
        public_id,
        lambda slot: review.draft_save(
            slot=slot,
            user=request.user,
            title=request.POST.get("title", ""),
            content=request.POST.get("content", ""),
        ),
    )


@login_required
@require_POST
def review_approve(request: HttpRequest, public_id) -> HttpResponse:
    return _act(
        request,
        public_id,
        lambda slot: review.slot_approve(
            slot=slot,
            user=request.user,
            title=request.POST.get("title"),
            content=request.POST.get("content"),
        ),
    )


@login_required
@require_POST
def review_changes(request: HttpRequest, public_id) -> HttpResponse:
    return _act(
        request,
        public_id,
        lambda slot: review.slot_request_changes(
            slot=slot, user=request.user, comment=request.POST.get("comment", "")
        ),
    )


@login_required
@require_POST
def review_reject(request: HttpRequest, public_id) -> HttpResponse:
    return _act(
        request,
        public_id,
        lambda slot: review.slot_reject(
            slot=slot, user=request.user, reason=request.POST.get("reason", "")
        ),
    )


@login_required
@require_POST
def review_new_time(request: HttpRequest, public_id) -> HttpResponse:
    zone = viewer_for(request).zone

    def new_time(slot):
        try:
            day = date.fromisoformat(request.POST.get("date", ""))
            clock = time.fromisoformat(request.POST.get("time", ""))
            when = local_to_utc(day, clock, zone)
        except LocalTimeError as error:
            raise review.ReviewRefused(str(error)) from None
        except ValueError:
            raise review.ReviewRefused("Pick a day and a time.") from None
        return review.slot_new_time(slot=slot, user=request.user, when=when)

    return _act(request, public_id, new_time)


@login_required
@require_POST
def slot_comment(request: HttpRequest, public_id) -> HttpResponse:
    """Any member may comment on a slot; the comment joins its activity trail."""
    slot = slot_for(request, public_id, to="comment")
    try:
        review.slot_comment(slot=slot, user=request.user, text=request.POST.get("text", ""))
    except review.ReviewRefused as refusal:
        if request.htmx:
            return HttpResponse(str(refusal), status=422, content_type="text/plain")
        messages.error(request, str(refusal))
        return redirect("slot", slot.public_id)
    if request.htmx:
        events = slot.events.select_related("actor")
        return render(request, "calendar_app/activity.html#trail", {"slot": slot, "events": events})
    return redirect("slot", slot.public_id)
