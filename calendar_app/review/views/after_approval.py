"""Managers change a post after approval: a new time (also by dragging its card), unschedule
it, change its text. The rules and the calls to Scripe are in review/after_approval.py."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_noop
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRefresh

from calendar_app.access import slot_for, viewer_for
from calendar_app.core.calendar_grid import parse_clock, parse_day
from calendar_app.core.refusals import Refusal
from calendar_app.models import UNDO_SECONDS, Role
from calendar_app.review import after_approval
from calendar_app.web.answers import done, refused


def _on_its_own_page(request: HttpRequest, slot) -> bool:
    """Asked from the post's own page (not the calendar's dialog), whose heading and status
    show what changed: that page reloads, with the sentence as a message."""
    here = reverse("slot", args=[slot.public_id])
    return bool(request.htmx) and request.htmx.current_url_abs_path == here


def _reload(request: HttpRequest, message: str) -> HttpResponse:
    messages.success(request, message)
    return HttpResponseClientRefresh()


def reschedule(request: HttpRequest, slot, *, day, clock) -> HttpResponse:
    """Reschedules and answers with a toast that offers Undo (a reschedule back)."""
    zone = viewer_for(request).zone
    here = reverse("slot", args=[slot.public_id])
    try:
        changed = after_approval.scheduled_reschedule(
            slot=slot, user=request.user, day=day, clock=clock, zone=zone
        )
    except Refusal as refusal:
        return refused(request, refusal, redirect_to=here)
    if _on_its_own_page(request, slot):
        return _reload(request, changed.message)
    undo = None
    if request.htmx and changed.undo_to is not None:
        context = {
            "slot": slot,
            "message": changed.message,
            "before": timezone.localtime(changed.undo_to, zone),
            "seconds": UNDO_SECONDS,
        }
        undo = render(request, "calendar_app/slot_detail.html#reschedule-toast", context)
    message = "" if undo is not None else changed.message
    return done(request, message, redirect_to=here, response=undo)


@login_required
@require_POST
def slot_reschedule(request: HttpRequest, public_id) -> HttpResponse:
    slot = slot_for(
        request, public_id, to=gettext_noop("change scheduled posts"), role=Role.MANAGER
    )
    day = parse_day(request.POST.get("date", ""), showable=False)
    return reschedule(request, slot, day=day, clock=parse_clock(request.POST.get("time", "")))


def _act(request: HttpRequest, public_id, action) -> HttpResponse:
    slot = slot_for(
        request, public_id, to=gettext_noop("change scheduled posts"), role=Role.MANAGER
    )
    try:
        changed = action(slot)
    except Refusal as refusal:
        return refused(request, refusal, redirect_to=reverse("slot", args=[slot.public_id]))
    if _on_its_own_page(request, slot):
        return _reload(request, changed.message)
    return done(request, changed.message, redirect_to=reverse("slot", args=[slot.public_id]))


@login_required
@require_POST
def slot_unschedule(request: HttpRequest, public_id) -> HttpResponse:
    return _act(
        request,
        public_id,
        lambda slot: after_approval.scheduled_unschedule(slot=slot, user=request.user),
    )


@login_required
@require_POST
def slot_post_edit(request: HttpRequest, public_id) -> HttpResponse:
    return _act(
        request,
        public_id,
        lambda slot: after_approval.scheduled_edit(
            slot=slot,
            user=request.user,
            title=request.POST.get("title"),
            content=request.POST.get("content"),
            version=request.POST.get("version"),
        ),
    )
