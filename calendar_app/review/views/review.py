"""The review queue: every draft waiting for a manager, reviewed in place one after another.

Each action answers with the whole `#review` fragment, with the next draft already open, so
a manager clears a queue without leaving the page (and without the mouse: see js/review.js). Input
the rules refuse comes back in the same fragment, next to its field, with what was typed.
"""

from __future__ import annotations

import re
from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import trigger_client_event

from calendar_app.access import Viewer, review_link_for, slot_for, viewer_for
from calendar_app.core.calendar_grid import parse_clock, parse_day
from calendar_app.core.refusals import Refusal
from calendar_app.models import REVIEW_STATUSES, Role, SlotStatus
from calendar_app.planning import selectors
from calendar_app.planning.scheduling import time_choices
from calendar_app.review import guests
from calendar_app.review import services as review
from calendar_app.templatetags.cards import render_review_items
from calendar_app.web.answers import refused

TEMPLATE = "calendar_app/review.html"
# The list shows the soonest drafts; filters narrow it when more wait.
LISTED = 100
TYPED_FIELDS = ("title", "content", "comment", "reason", "text", "date", "time")


def _filters(request: HttpRequest) -> dict:
    """The queue's filters from the query string; a value that makes no sense is dropped."""
    project = request.GET.get("project", "")
    label = request.GET.get("label", "")
    return {
        "project": project if project.isprintable() and len(project) <= 80 else "",
        # A label's public id (#15); anything else filters nothing.
        "label": label if re.fullmatch(r"[0-9a-fA-F-]{32,36}", label) else "",
        "date_from": parse_day(request.GET.get("date_from", "")),
        "date_to": parse_day(request.GET.get("date_to", "")),
    }


def review_count_html(count: int, *, oob: bool = False) -> str:
    """The Review count in the top menu, for a page or (out of band) inside another answer."""
    return render_to_string("base.html#review-count", {"waiting": count, "oob": oob})


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
        raise PermissionDenied("Only a manager can review drafts.")
    filters = _filters(request)
    projects = list(selectors.managed_projects(viewer))
    slots = selectors.review_queue(
        viewer,
        projects=projects,
        project_scripe_id=filters["project"],
        date_from=filters["date_from"],
        date_to=filters["date_to"],
        label_id=filters["label"],
    )
    selected = None
    if selected_id is not None:
        selected = next((s for s in slots if str(s.public_id) == str(selected_id)), None)
    if selected is None and after is not None:
        # The draft just handled has left the queue: open the one that came after it.
        later = [s for s in slots if (s.scheduled_for, s.pk) > after]
        selected = later[0] if later else (slots[0] if slots else None)
    if selected is None and slots:
        selected = slots[0]
    earlier_drafts, events, links = [], [], []
    if selected is not None:
        # The queue holds what its list shows; the open draft is read in full.
        draft, earlier_drafts = selectors.review_draft(viewer, selected.public_id)
        selected = draft or selected
        events = list(selectors.slot_events(selected))
        links = guests.live_links(selected)
    listed = slots[:LISTED]
    shown = {k: v.isoformat() if isinstance(v, date) else (v or "") for k, v in filters.items()}
    query = {k: v for k, v in shown.items() if v}
    # Every link and decision of the page carries the filters, so the next draft it opens is
    # the next one of the filtered queue, not of the whole one.
    filter_query = urlencode(query)
    render_review_items(listed, selected, filter_query)
    if selected is not None:
        query["slot"] = str(selected.public_id)
    typed = _typed(request) if errors else {}
    job = selected.current_job if selected else None
    approve_refusal = ""
    if job is not None and selected.status == SlotStatus.IN_REVIEW:
        approve_refusal = review.self_approval_refusal(selected, job, request.user, events)
    # The menu's count is the queue's length when nothing filters it (no query for it).
    filtered = any(filters.values())
    waiting = selectors.review_count(viewer) if filtered else len(slots)
    context = {
        # The draft as the manager sees it: what they typed when it was refused, else stored.
        "shown_title": typed.get("title", job.post_title if job else ""),
        "shown_content": typed.get("content", job.post_content if job else ""),
        "slots": slots,
        "listed": listed,
        "unlisted": len(slots) - len(listed),
        "selected": selected,
        "earlier_drafts": earlier_drafts,
        "changes": review.draft_changes(job, earlier_drafts),
        "approve_refusal": approve_refusal,
        "events": events,
        "review_links": links,
        "links_outdated": any(link.is_outdated for link in links),
        "shared_url": shared_url,
        "share_days": guests.LINK_DAYS,
        "review_count": waiting,
        "filters": {
            k: v.isoformat() if isinstance(v, date) else v or "" for k, v in filters.items()
        },
        "projects": projects,
        "labels": list(selectors.labels_in(viewer.managed_workspace_ids)),
        "refresh_url": f"{reverse('review')}?{urlencode(query)}",
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
        response.content += review_count_html(waiting, oob=True).encode()
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
    slot = slot_for(request, public_id, to="review drafts", role=Role.MANAGER)
    position = (slot.scheduled_for, slot.pk)
    here = f"{reverse('review')}?slot={slot.public_id}"
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
    slot = slot_for(request, public_id, to="comment")
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
        "events": selectors.slot_events(slot),
        "errors": errors,
        "typed": _typed(request) if errors else {},
    }
    return render(request, "calendar_app/activity.html#trail", context)


@login_required
@require_POST
def review_share(request: HttpRequest, public_id) -> HttpResponse:
    """A review link for a client: made here, its address shown once (only its hash is kept)."""
    slot = slot_for(request, public_id, to="share drafts", role=Role.MANAGER)
    here = f"{reverse('review')}?slot={slot.public_id}"
    try:
        _link, token = guests.link_create(
            slot=slot, user=request.user, days=request.POST.get("days")
        )
    except Refusal as refusal:
        return refused(request, refusal, redirect_to=here)
    url = request.build_absolute_uri(reverse("guest_review", args=[token]))
    if not request.htmx:
        messages.success(request, f"Review link (shown only now): {url}")
        return redirect(here)
    return _render(request, selected_id=slot.public_id, shared_url=url, message="Link created.")


@login_required
@require_POST
def review_share_revoke(request: HttpRequest, public_id) -> HttpResponse:
    """Revokes a review link: its address answers 404 from now on."""
    viewer = viewer_for(request)
    link = review_link_for(viewer, public_id)
    slot = slot_for(request, link.slot.public_id, to="share drafts", role=Role.MANAGER)
    guests.link_revoke(link=link)
    if not request.htmx:
        messages.success(request, "Review link revoked.")
        return redirect(f"{reverse('review')}?slot={slot.public_id}")
    return _render(request, selected_id=slot.public_id, message="Review link revoked.")
