"""Planning slots: the form (in a dialog with HTMX, a page without), edit, move, delete, undo,
the slot page and the filtered list."""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from calendar_app.access import Viewer, deleted_slot_for, slot_for, viewer_for
from calendar_app.bulk.selectors import bar_context
from calendar_app.core.calendar_grid import (
    build_days,
    month_weeks,
    parse_clock,
    parse_day,
    shift_month,
)
from calendar_app.core.refusals import Refusal
from calendar_app.models import UNDO_SECONDS, Role, SlotStatus
from calendar_app.pipeline.generation import generation_request
from calendar_app.planning import queue, selectors, services
from calendar_app.planning.forms import SlotFilterForm, SlotForm
from calendar_app.planning.scheduling import MIN_LEAD
from calendar_app.review.views.after_approval import reschedule
from calendar_app.web.answers import done, refused, show_on_form

FORM_TEMPLATE = "calendar_app/slot_form.html"
PAGE_SIZE = 25


def _form(viewer: Viewer, **kwargs) -> SlotForm:
    return SlotForm(
        projects=selectors.plannable_projects(viewer),
        notes=selectors.recent_notes(viewer),
        may_put_first=any(queue.may_reorder(viewer, w) for w in viewer.editable_workspace_ids),
        **kwargs,
    )


def _submit(form: SlotForm, viewer: Viewer, service, **kwargs):
    """The service's result, or None with every problem shown on the form: what did not
    parse and, beside it, what the slot rules say about the rest (nothing is saved then)."""
    try:
        if form.is_valid():
            return service(zone=viewer.zone, **form.plan(), **kwargs)
        services.slot_validate(zone=viewer.zone, slot=kwargs.get("slot"), **form.plan())
    except Refusal as refusal:
        show_on_form(form, refusal)
    return None


def _initial(slot, zone) -> dict:
    """The post form's fields as a planned post has them (Edit, and a series' occurrence)."""
    local = timezone.localtime(slot.scheduled_for, zone)
    return {
        "project": slot.project,
        "note_text": slot.note.text,
        "language": slot.note.language,
        "date": local.date(),
        "time": f"{local:%H:%M}",
    }


def _generate_now(slot, user) -> str:
    """Sends a just-planned post to Scripe when its form asked to ("Generate now"), and says
    how that went, to follow the sentence that says it was planned."""
    try:
        generation_request(slot=slot, user=user)
    except Refusal as refusal:
        return f" Not sent to Scripe: {refusal}"
    return " Sent to Scripe."


def _month_of(slot) -> str:
    when = timezone.localtime(slot.scheduled_for)
    return reverse("month", args=[when.year, when.month])


def _picker(request: HttpRequest, viewer: Viewer, selected: date | None, shown: date) -> dict:
    """The calendar widget's month: local days, the past ones disabled."""
    today = timezone.localdate()
    weeks = month_weeks(shown.year, shown.month)
    days = build_days([d for w in weeks for d in w], [], viewer.zone, today, shown.month)
    prev_y, prev_m = shift_month(shown.year, shown.month, -1)
    next_y, next_m = shift_month(shown.year, shown.month, 1)
    return {
        "picker_weeks": [[days[d] for d in week] for week in weeks],
        "picker_title": shown.strftime("%B %Y"),
        "picker_selected": selected,
        "picker_prev": (
            f"{prev_y:04d}-{prev_m:02d}" if (prev_y, prev_m) >= (today.year, today.month) else None
        ),
        "picker_next": f"{next_y:04d}-{next_m:02d}",
        "picker_min": (timezone.localtime() + MIN_LEAD).strftime("%Y-%m-%dT%H:%M"),
    }


def _render_form(
    request: HttpRequest, viewer: Viewer, form: SlotForm, slot=None, month: date | None = None
) -> HttpResponse:
    """The form; its date picker shows the chosen day's month, else `month` (the month the
    calendar showed when New post was pressed, if not past), else this month."""
    selected = parse_day(form["date"].value())
    today = timezone.localdate()
    shown = selected or (month if month and month >= today.replace(day=1) else today)
    context = {"form": form, "slot": slot, "zone": viewer.zone.key}
    context.update(_picker(request, viewer, selected, shown))
    template = FORM_TEMPLATE + ("#slot-form" if request.htmx else "")
    return render(request, template, context)


@login_required
@require_GET
def date_picker(request: HttpRequest) -> HttpResponse:
    """The widget's month navigation, swapped in place."""
    viewer = viewer_for(request)
    shown = parse_day(request.GET.get("month", "") + "-01") or timezone.localdate()
    selected = parse_day(request.GET.get("date", ""))
    return render(
        request, FORM_TEMPLATE + "#date-picker", _picker(request, viewer, selected, shown)
    )


@login_required
@require_http_methods(["GET", "POST"])
def slot_new(request: HttpRequest) -> HttpResponse:
    viewer = viewer_for(request)
    if not viewer.editable_workspace_ids:
        messages.error(request, "You are not a member of any workspace yet; ask an admin.")
        return redirect("home")
    if request.method == "GET":
        initial = {"date": request.GET.get("date") or None}
        # An hour of the week grid (#15) opens the form at its time.
        clock = parse_clock(request.GET.get("time", ""))
        if clock is not None and clock.minute % 15 == 0:
            initial["time"] = f"{clock:%H:%M}"
        month = parse_day(request.GET.get("month", "")[:7] + "-01")
        return _render_form(request, viewer, _form(viewer, initial=initial), month=month)
    form = _form(viewer, data=request.POST)

    def plan(**fields):
        return services.slot_create(request_key=form.cleaned_data["request_key"], **fields)

    slot = _submit(form, viewer, plan, user=request.user)
    if slot is None:
        return _render_form(request, viewer, form)
    when = timezone.localtime(slot.scheduled_for)
    text = f"Planned for {when:%a %-d %b, %H:%M} ({viewer.zone.key})."
    if form.cleaned_data["generate_now"]:
        text += _generate_now(slot, request.user)
    # A blank form with a new request key takes the used one's place: on the form's own page
    # (no dialog to close) the next post is a new request, not a repeat of this one.
    fresh = _render_form(request, viewer, _form(viewer)) if request.htmx else None
    return done(request, text, redirect_to=_month_of(slot), response=fresh)


@login_required
@require_http_methods(["GET", "POST"])
def slot_edit(request: HttpRequest, public_id) -> HttpResponse:
    viewer = viewer_for(request)
    slot = slot_for(request, public_id, to="edit posts")
    try:
        slot.require_editable()
    except Refusal as refusal:
        return refused(request, refusal, redirect_to=reverse("slot", args=[slot.public_id]))
    if request.method == "GET":
        form = _form(viewer, initial=_initial(slot, viewer.zone))
        return _render_form(request, viewer, form, slot)
    form = _form(viewer, data=request.POST)
    if _submit(form, viewer, services.slot_update, slot=slot, user=request.user) is None:
        return _render_form(request, viewer, form, slot)
    return saved(request, slot, "Post saved.", to=reverse("slot", args=[slot.public_id]))


def saved(request: HttpRequest, slot, message: str, *, to: str) -> HttpResponse:
    """Where a saved edit of a post lands. In the dialog, the dialog closes over the page the
    person was on. On an edit form's own page (a series' page links to its occurrences'
    forms), the browser goes on to `to`, as it does without JavaScript, rather than leave
    the person on a form they are done with, told only by a toast (#24)."""
    forms = {reverse(name, args=[slot.public_id]) for name in ("slot_edit", "occurrence_edit")}
    page = (request.htmx.current_url_abs_path or "") if request.htmx else ""
    if page.split("?")[0] in forms:
        messages.success(request, message)
        return HttpResponseClientRedirect(to)
    return done(request, message, redirect_to=to)


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
        return refused(request, Refusal("Drop the card on a day.", status=422), redirect_to=here)
    # A drop on an hour of the week grid (#15) names the time too; a day keeps the card's.
    clock = parse_clock(request.POST.get("time", "")) if request.POST.get("time") else None
    if request.POST.get("time") and clock is None:
        return refused(request, Refusal("Drop the card on an hour.", status=422), redirect_to=here)
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
    return done(request, f"Moved to {when:%a %-d %b, %H:%M}.", redirect_to=here)


@login_required
@require_POST
def slot_delete(request: HttpRequest, public_id) -> HttpResponse:
    slot = slot_for(request, public_id, to="delete posts")
    try:
        services.slot_delete(slot=slot)
    except Refusal as refusal:
        return refused(request, refusal, redirect_to=reverse("slot", args=[slot.public_id]))
    undo = None
    if request.htmx:
        context = {"slot": slot, "undo_seconds": UNDO_SECONDS}
        undo = render(request, "calendar_app/slot_detail.html#undo-toast", context)
    message = "" if undo is not None else "Post deleted."
    return done(request, message, redirect_to=_month_of(slot), response=undo)


@login_required
@require_POST
def slot_restore(request: HttpRequest, public_id) -> HttpResponse:
    viewer = viewer_for(request)
    slot = deleted_slot_for(viewer, public_id)
    if slot is None:
        return refused(request, Refusal("Nothing to undo.", status=404), redirect_to="/")
    viewer.require(Role.EDITOR, slot.workspace_id, "restore posts")
    try:
        services.slot_restore(slot=slot)
    except Refusal as refusal:
        return refused(request, refusal, redirect_to=_month_of(slot))
    here = reverse("slot", args=[slot.public_id])
    return done(request, "Post restored.", redirect_to=here, response=HttpResponse(""))


def filtered_slots(viewer: Viewer, data) -> tuple[SlotFilterForm, object]:
    """The list's filter form on `data` and the slots it matches (none while it does not
    parse): what All slots shows, and what "select all matching the filter" acts on."""
    form = SlotFilterForm(
        data or None,
        projects=selectors.visible_projects(viewer),
    )
    if not form.is_bound:
        return form, selectors.slots_matching(viewer)
    if not form.is_valid():
        return form, selectors.slots_matching(viewer).none()
    return form, selectors.slots_filtered(viewer, form.cleaned_data)


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
