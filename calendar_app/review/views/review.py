"""The review queue: every draft waiting for a manager, reviewed in place one after another.

Each action answers with the whole `#review` fragment, with the next draft already open, so
a manager clears a queue without leaving the page (and without the mouse: see js/review.js). Input
the rules refuse comes back in the same fragment, next to its field, with what was typed.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import trigger_client_event

from calendar_app.access import Viewer, review_link_for, slot_for, viewer_for
from calendar_app.core.calendar_grid import parse_clock, parse_day
from calendar_app.core.refusals import Refusal
from calendar_app.models import REVIEW_STATUSES, Role
from calendar_app.planning import selectors as planning
from calendar_app.planning.scheduling import time_choices
from calendar_app.review import guests
from calendar_app.review import services as review
from calendar_app.review.selectors import ReviewFilters, review_screen
from calendar_app.templatetags.cards import render_review_items
from calendar_app.web.answers import refused
from calendar_app.web.fragments import review_count_html

TEMPLATE = "calendar_app/review.html"
TYPED_FIELDS = ("title", "content", "comment", "reason", "text", "date", "time")


def _here(request: HttpRequest, slot) -> str:
    """The review screen on this draft, with the queue's filters (a refused decision without
    JavaScript comes back to the same filtered queue)."""
    return f"{reverse('review')}?{ReviewFilters.of(request.GET).query(slot=slot)}"


def _render(
    request: HttpRequest,
    selected_id=None,
    after=None,
    message: str = "",
    errors: dict | None = None,
    shared_url: str = "",
) -> HttpResponse:
    viewer: Viewer = viewer_for(request)
    if not viewer.managed_workspace_ids:
        raise PermissionDenied(_("Only a manager can review drafts."))
    filters = ReviewFilters.of(request.GET)
    screen = review_screen(viewer, filters, selected_id=selected_id, after=after)
    filter_query = filters.query()
    render_review_items(screen.listed, screen.selected, filter_query)
    typed = _typed(request) if errors else {}
    job = screen.job
    context = {
        "screen": screen,
        # The draft as the manager sees it: what they typed when it was refused, else stored.
        "shown_title": typed.get("title", job.post_title if job else ""),
        "shown_content": typed.get("content", job.post_content if job else ""),
        "slots": screen.slots,
        "listed": screen.listed,
        "unlisted": len(screen.slots) - len(screen.listed),
        "selected": screen.selected,
        "earlier_drafts": screen.earlier_drafts,
        "changes": screen.changes,
        "approve_refusal": screen.approve_refusal,
        "events": screen.events,
        "review_links": screen.links,
        "links_outdated": any(link.is_outdated for link in screen.links),
        "shared_url": shared_url,
        "share_days": guests.LINK_DAYS,
        "review_count": screen.waiting,
        "filters": filters.shown(),
        "projects": screen.projects,
        "labels": list(planning.labels_in(viewer.managed_workspace_ids)),
        "refresh_url": f"{reverse('review')}?{filters.query(slot=screen.selected)}",
        "filter_query": filter_query,
        "zone": viewer.zone.key,
        "limit": review.LINKEDIN_LIMIT,
        "time_choices": time_choices(),
        "errors": errors or {},
        "typed": typed,
    }
    template = TEMPLATE + ("#review" if request.htmx else "")
    response = render(request, template, context)
    if request.htmx:
        # The menu's count follows at once (after a decision it has changed).
        response.content += review_count_html(screen.waiting, oob=True).encode()
    if message and request.htmx:
        trigger_client_event(response, "toast", {"message": message})
    return response


def _typed(request: HttpRequest) -> dict[str, str]:
    """What was typed into the refused form, so it is shown again rather than lost."""
    return {name: request.POST[name] for name in TYPED_FIELDS if name in request.POST}


@login_required
@require_GET
def review_queue(request: HttpRequest) -> HttpResponse:
    return _render(request, selected_id=request.GET.get("slot"))


def _act(request: HttpRequest, public_id, action) -> HttpResponse:
    slot = slot_for(request, public_id, to=gettext_noop("review drafts"), role=Role.MANAGER)
    position = (slot.scheduled_for, slot.pk)
    here = _here(request, slot)
    try:
        message = action(slot)
    except Refusal as refusal:
        if refusal.fields and request.htmx:
            # Shown next to its field in the panel, with what was typed.
            return _render(request, selected_id=slot.public_id, errors=refusal.fields)
        return refused(request, refusal, redirect_to=here)
    if not request.htmx:
        messages.success(request, message)
        return redirect(f"{reverse('review')}?{request.GET.urlencode()}")
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
            title=request.POST.get("title"),
            content=request.POST.get("content"),
            version=request.POST.get("version"),
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
            version=request.POST.get("version"),
        ),
    )


@login_required
@require_POST
def review_changes(request: HttpRequest, public_id) -> HttpResponse:
    return _act(
        request,
        public_id,
        lambda slot: review.slot_request_changes(
            slot=slot, user=request.user, comment=request.POST.get("comment")
        ),
    )


@login_required
@require_POST
def review_reject(request: HttpRequest, public_id) -> HttpResponse:
    return _act(
        request,
        public_id,
        lambda slot: review.slot_reject(
            slot=slot, user=request.user, reason=request.POST.get("reason")
        ),
    )


@login_required
@require_POST
def review_new_time(request: HttpRequest, public_id) -> HttpResponse:
    return _act(
        request,
        public_id,
        lambda slot: review.slot_new_time(
            slot=slot,
            user=request.user,
            # Any day: the planning rule says why one outside the calendar will not do.
            day=parse_day(request.POST.get("date", ""), showable=False),
            clock=parse_clock(request.POST.get("time", "")),
            zone=viewer_for(request).zone,
        ),
    )


@login_required
@require_POST
def slot_comment(request: HttpRequest, public_id) -> HttpResponse:
    """Any member may comment on a slot; the comment joins its activity trail."""
    slot = slot_for(request, public_id, to=gettext_noop("comment"))
    errors = {}
    try:
        review.slot_comment(slot=slot, user=request.user, text=request.POST.get("text"))
    except Refusal as refusal:
        if not request.htmx:
            return refused(request, refusal, redirect_to=reverse("slot", args=[slot.public_id]))
        errors = refusal.fields or {"text": refusal.message}
    if not request.htmx:
        return redirect("slot", slot.public_id)
    context = {
        "slot": slot,
        "events": planning.slot_events(slot),
        "errors": errors,
        "typed": _typed(request) if errors else {},
    }
    return render(request, "calendar_app/activity.html#trail", context)


@login_required
@require_POST
def review_share(request: HttpRequest, public_id) -> HttpResponse:
    """A review link for a client: made here, its address shown once (only its hash is kept)."""
    slot = slot_for(request, public_id, to=gettext_noop("share drafts"), role=Role.MANAGER)
    here = _here(request, slot)
    try:
        _link, token = guests.link_create(
            slot=slot, user=request.user, days=request.POST.get("days")
        )
    except Refusal as refusal:
        return refused(request, refusal, redirect_to=here)
    url = request.build_absolute_uri(reverse("guest_review", args=[token]))
    if not request.htmx:
        messages.success(request, _("Review link (shown only now): %(url)s") % {"url": url})
        return redirect(here)
    return _render(request, selected_id=slot.public_id, shared_url=url, message=_("Link created."))


@login_required
@require_POST
def review_share_revoke(request: HttpRequest, public_id) -> HttpResponse:
    """Revokes a review link: its address answers 404 from now on."""
    viewer = viewer_for(request)
    link = review_link_for(viewer, public_id)
    slot = slot_for(
        request, link.slot.public_id, to=gettext_noop("share drafts"), role=Role.MANAGER
    )
    guests.link_revoke(link=link)
    if not request.htmx:
        messages.success(request, _("Review link revoked."))
        return redirect(_here(request, slot))
    return _render(request, selected_id=slot.public_id, message=_("Review link revoked."))
