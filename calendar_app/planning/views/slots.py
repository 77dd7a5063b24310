"""Planning slots: the form (in a dialog with HTMX, a page without), edit, move, delete, undo,
the slot page and the filtered list."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from calendar_app.access import deleted_slot_for, slot_for, viewer_for
from calendar_app.bulk.selectors import bar_context
from calendar_app.core.calendar_grid import (
    parse_clock,
    parse_day,
)
from calendar_app.core.refusals import Refusal
from calendar_app.models import UNDO_SECONDS, Role, SlotStatus
from calendar_app.planning import selectors, services
from calendar_app.planning.forms import filtered_slots
from calendar_app.planning.views.post_form import (
    FORM_TEMPLATE,
    generate_now,
    initial_of,
    month_of,
    picker,
    post_form_for,
    render_form,
    saved,
    submit,
)
from calendar_app.review.views.after_approval import reschedule
from calendar_app.web.answers import done, refused

PAGE_SIZE = 25


@login_required
@require_GET
def date_picker(request: HttpRequest) -> HttpResponse:
    """The widget's month navigation, swapped in place."""
    viewer = viewer_for(request)
    shown = parse_day(request.GET.get("month", "") + "-01") or timezone.localdate()
    selected = parse_day(request.GET.get("date", ""))
    return render(request, FORM_TEMPLATE + "#date-picker", picker(request, viewer, selected, shown))


@login_required
@require_http_methods(["GET", "POST"])
def slot_new(request: HttpRequest) -> HttpResponse:
    viewer = viewer_for(request)
    if not viewer.editable_workspace_ids:
        messages.error(request, _("You are not a member of any workspace yet; ask an admin."))
        return redirect("home")
    if request.method == "GET":
        initial = {"date": request.GET.get("date") or None}
        # An hour of the week grid (#15) opens the form at its time.
        clock = parse_clock(request.GET.get("time", ""))
        if clock is not None and clock.minute % 15 == 0:
            initial["time"] = f"{clock:%H:%M}"
        month = parse_day(request.GET.get("month", "")[:7] + "-01")
        return render_form(request, viewer, post_form_for(viewer, initial=initial), month=month)
    form = post_form_for(viewer, data=request.POST)

    def plan(**fields):
        return services.slot_create(request_key=form.cleaned_data["request_key"], **fields)

    slot = submit(form, viewer, plan, user=request.user)
    if slot is None:
        return render_form(request, viewer, form)
    when = timezone.localtime(slot.scheduled_for)
    text = _("Planned for %(when)s (%(zone)s).") % {
        "when": date_format(when, _("D j M, H:i")),
        "zone": viewer.zone.key,
    }
    if form.cleaned_data["generate_now"]:
        text += generate_now(slot, request.user)
    # A blank form with a new request key takes the used one's place: on the form's own page
    # (no dialog to close) the next post is a new request, not a repeat of this one.
    fresh = render_form(request, viewer, post_form_for(viewer)) if request.htmx else None
    return done(request, text, redirect_to=month_of(slot), response=fresh)


@login_required
@require_http_methods(["GET", "POST"])
def slot_edit(request: HttpRequest, public_id) -> HttpResponse:
    viewer = viewer_for(request)
    slot = slot_for(request, public_id, to=gettext_noop("edit posts"))
    try:
        slot.require_editable()
    except Refusal as refusal:
        return refused(request, refusal, redirect_to=reverse("slot", args=[slot.public_id]))
    if request.method == "GET":
        form = post_form_for(viewer, initial=initial_of(slot, viewer.zone))
        return render_form(request, viewer, form, slot)
    form = post_form_for(viewer, data=request.POST)
    if submit(form, viewer, services.slot_update, slot=slot, user=request.user) is None:
        return render_form(request, viewer, form, slot)
    return saved(request, slot, _("Post saved."), to=reverse("slot", args=[slot.public_id]))


@login_required
@require_GET
def slot_detail(request: HttpRequest, public_id) -> HttpResponse:
    slot = slot_for(request, public_id)
    template = "calendar_app/slot_detail.html" + ("#slot-panel" if request.htmx else "")
    viewer = viewer_for(request)
    context = {
        "slot": slot,
        "zone": viewer.zone.key,
        "events": selectors.slot_events(slot),
        "can_manage": viewer.can(Role.MANAGER, slot.workspace_id),
    }
    return render(request, template, context)


@login_required
@require_POST
def slot_move(request: HttpRequest, public_id) -> HttpResponse:
    viewer = viewer_for(request)
    slot = slot_for(request, public_id)
    here = reverse("slot", args=[slot.public_id])
    # The rule the card followed when it offered itself for dragging, or not.
    refusal = services.slot_move_refusal(viewer=viewer, slot=slot)
    if refusal is not None:
        return refused(request, refusal, redirect_to=here)
    day = parse_day(request.POST.get("date", ""), showable=False)
    if day is None:
        return refused(request, Refusal(_("Drop the card on a day."), status=422), redirect_to=here)
    # A drop on an hour of the week grid (#15) names the time too; a day keeps the card's.
    clock = parse_clock(request.POST.get("time", "")) if request.POST.get("time") else None
    if request.POST.get("time") and clock is None:
        return refused(
            request, Refusal(_("Drop the card on an hour."), status=422), redirect_to=here
        )
    if slot.status == SlotStatus.SCHEDULED:
        # A post already scheduled in Scripe moves there first, with Undo.
        if clock is None:
            local = timezone.localtime(slot.scheduled_for, viewer.zone)
            clock = local.time().replace(tzinfo=None)
        return reschedule(request, slot, day=day, clock=clock)
    try:
        services.slot_move(slot=slot, day=day, zone=viewer.zone, user=request.user, clock=clock)
    except Refusal as refusal:
        return refused(request, refusal, redirect_to=here)
    when = timezone.localtime(slot.scheduled_for)
    moved = _("Moved to %(when)s.") % {"when": date_format(when, _("D j M, H:i"))}
    return done(request, moved, redirect_to=here)


@login_required
@require_POST
def slot_delete(request: HttpRequest, public_id) -> HttpResponse:
    slot = slot_for(request, public_id, to=gettext_noop("delete posts"))
    try:
        services.slot_delete(slot=slot)
    except Refusal as refusal:
        return refused(request, refusal, redirect_to=reverse("slot", args=[slot.public_id]))
    undo = None
    if request.htmx:
        context = {"slot": slot, "undo_seconds": UNDO_SECONDS}
        undo = render(request, "calendar_app/slot_detail.html#undo-toast", context)
    message = "" if undo is not None else _("Post deleted.")
    return done(request, message, redirect_to=month_of(slot), response=undo)


@login_required
@require_POST
def slot_restore(request: HttpRequest, public_id) -> HttpResponse:
    viewer = viewer_for(request)
    slot = deleted_slot_for(viewer, public_id)
    if slot is None:
        return refused(request, Refusal(_("Nothing to undo."), status=404), redirect_to="/")
    viewer.require(Role.EDITOR, slot.workspace_id, gettext_noop("restore posts"))
    try:
        services.slot_restore(slot=slot)
    except Refusal as refusal:
        return refused(request, refusal, redirect_to=month_of(slot))
    here = reverse("slot", args=[slot.public_id])
    return done(request, _("Post restored."), redirect_to=here, response=HttpResponse(""))


@login_required
@require_GET
def slot_list(request: HttpRequest) -> HttpResponse:
    viewer = viewer_for(request)
    form, slots = filtered_slots(viewer, request.GET)
    page = Paginator(slots, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {"form": form, "page": page, "query": query.urlencode(), "zone": viewer.zone.key}
    context.update(bar_context(viewer))
    template = "calendar_app/slot_list.html" + ("#slot-results" if request.htmx else "")
    return render(request, template, context)
