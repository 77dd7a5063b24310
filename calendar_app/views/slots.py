"""Planning slots: the form (in a dialog with HTMX, a page without), edit, move, delete, undo,
the slot page and the filtered list."""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from calendar_app import services
from calendar_app.access import Viewer, slot_for, viewer_for
from calendar_app.calendar_grid import build_days, month_weeks, shift_month
from calendar_app.forms import SlotFilterForm, SlotForm
from calendar_app.generation import GenerationRefused, generation_request
from calendar_app.models import (
    UNDO_SECONDS,
    PlannedSlot,
    Project,
    Role,
    SlotStatus,
    SourceNote,
    undo_deadline,
)
from calendar_app.scheduling import MIN_LEAD

FORM_TEMPLATE = "calendar_app/slot_form.html"
PAGE_SIZE = 25


def _slots_changed(response: HttpResponse, message: str | None = None) -> HttpResponse:
    """Tells the page to refresh its calendar or list, and to say what happened."""
    events: dict = {"slots-changed": True}
    if message:
        events["toast"] = {"message": message}
    response["HX-Trigger"] = json.dumps(events)
    return response


def _form(request: HttpRequest, viewer: Viewer, **kwargs) -> SlotForm:
    editable = [w.pk for w in viewer.workspaces_with(Role.EDITOR)]
    return SlotForm(
        projects=Project.objects.filter(workspace_id__in=editable).select_related("workspace"),
        # Recent notes only, so the picker stays short in a workspace with years of notes.
        notes=SourceNote.objects.filter(
            workspace_id__in=editable, created_at__gte=timezone.now() - timedelta(days=90)
        ),
        zone=viewer.zone,
        **kwargs,
    )


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


def _render_form(request: HttpRequest, viewer: Viewer, form: SlotForm, slot=None) -> HttpResponse:
    selected = form["date"].value()
    try:
        selected = date.fromisoformat(str(selected)) if selected else None
    except ValueError:
        selected = None
    shown = selected or timezone.localdate()
    context = {"form": form, "slot": slot, "zone": viewer.zone.key}
    context.update(_picker(request, viewer, selected, shown))
    template = FORM_TEMPLATE + ("#slot-form" if request.htmx else "")
    return render(request, template, context)


@login_required
@require_GET
def date_picker(request: HttpRequest) -> HttpResponse:
    """The widget's month navigation, swapped in place."""
    viewer = viewer_for(request)
    try:
        shown = date.fromisoformat(request.GET.get("month", "") + "-01")
    except ValueError:
        shown = timezone.localdate()
    try:
        selected = date.fromisoformat(request.GET.get("date", ""))
    except ValueError:
        selected = None
    return render(
        request, FORM_TEMPLATE + "#date-picker", _picker(request, viewer, selected, shown)
    )


@login_required
@require_http_methods(["GET", "POST"])
def slot_new(request: HttpRequest) -> HttpResponse:
    viewer = viewer_for(request)
    if not viewer.workspaces_with(Role.EDITOR):
        messages.error(request, "You are not a member of any workspace yet; ask an admin.")
        return redirect("home")
    if request.method == "GET":
        initial = {"date": request.GET.get("date") or None}
        return _render_form(request, viewer, _form(request, viewer, initial=initial))
    form = _form(request, viewer, data=request.POST)
    if not form.is_valid():
        return _render_form(request, viewer, form)
    data = form.cleaned_data
    slot = services.slot_create(
        user=request.user,
        project=data["project"],
        note_text=data["note_text"],
        note=data["existing_note"],
        language=data["language"],
        scheduled_for=form.scheduled_for,
    )
    when = timezone.localtime(slot.scheduled_for)
    text = f"Planned for {when:%a %d %b, %H:%M} ({viewer.zone.key})."
    if data["generate_now"]:
        try:
            generation_request(slot=slot, user=request.user)
        except GenerationRefused as refusal:
            text += f" Not sent to Scripe: {refusal}"
        else:
            text += " Sent to Scripe."
    if request.htmx:
        return _slots_changed(HttpResponse(status=204), text)
    messages.success(request, text)
    return redirect("month", when.year, when.month)


@login_required
@require_http_methods(["GET", "POST"])
def slot_edit(request: HttpRequest, public_id) -> HttpResponse:
    viewer = viewer_for(request)
    slot = slot_for(request, public_id, to="edit slots")
    if not slot.is_editable:
        return render(request, "calendar_app/slot_locked.html", {"slot": slot}, status=409)
    if request.method == "GET":
        local = timezone.localtime(slot.scheduled_for)
        initial = {
            "project": slot.project,
            "note_text": slot.note.text,
            "language": slot.note.language,
            "date": local.date(),
            "time": f"{local:%H:%M}",
        }
        return _render_form(request, viewer, _form(request, viewer, initial=initial), slot)
    form = _form(request, viewer, data=request.POST)
    if not form.is_valid():
        return _render_form(request, viewer, form, slot)
    data = form.cleaned_data
    try:
        services.slot_update(
            slot=slot,
            user=request.user,
            project=data["project"],
            note_text=data["note_text"],
            note=data["existing_note"],
            language=data["language"],
            scheduled_for=form.scheduled_for,
        )
    except services.SlotRefused as refusal:
        form.add_error(None, str(refusal))
        return _render_form(request, viewer, form, slot)
    if request.htmx:
        return _slots_changed(HttpResponse(status=204), "Slot saved.")
    messages.success(request, "Slot saved.")
    return redirect("slot", slot.public_id)


@login_required
@require_GET
def slot_detail(request: HttpRequest, public_id) -> HttpResponse:
    slot = slot_for(request, public_id)
    template = "calendar_app/slot_detail.html" + ("#slot-panel" if request.htmx else "")
    context = {
        "slot": slot,
        "zone": viewer_for(request).zone.key,
        "events": slot.events.select_related("actor"),
    }
    return render(request, template, context)


@login_required
@require_POST
def slot_move(request: HttpRequest, public_id) -> HttpResponse:
    viewer = viewer_for(request)
    slot = slot_for(request, public_id, to="move slots")
    try:
        day = date.fromisoformat(request.POST.get("date", ""))
    except ValueError:
        return HttpResponse("Drop the card on a day.", status=400, content_type="text/plain")
    try:
        services.slot_move(slot=slot, day=day, zone=viewer.zone, user=request.user)
    except services.SlotRefused as refusal:
        # A refused drop is an answer, not an error: 200 with the reason keeps the browser
        # console clean, and the page puts the card back and shows why.
        response = HttpResponse(str(refusal), content_type="text/plain")
        response["X-Move-Refused"] = "true"
        return response
    when = timezone.localtime(slot.scheduled_for)
    return _slots_changed(HttpResponse(status=204), f"Moved to {when:%a %d %b, %H:%M}.")


@login_required
@require_POST
def slot_delete(request: HttpRequest, public_id) -> HttpResponse:
    slot = slot_for(request, public_id, to="delete slots")
    try:
        services.slot_delete(slot=slot)
    except services.SlotRefused as refusal:
        if request.htmx:
            return HttpResponse(str(refusal), status=409, content_type="text/plain")
        messages.error(request, str(refusal))
        return redirect("slot", slot.public_id)
    if request.htmx:
        response = render(
            request,
            "calendar_app/slot_detail.html#undo-toast",
            {"slot": slot, "undo_seconds": UNDO_SECONDS},
        )
        return _slots_changed(response)
    messages.success(request, "Slot deleted.")
    when = timezone.localtime(slot.scheduled_for)
    return redirect("month", when.year, when.month)


@login_required
@require_POST
def slot_restore(request: HttpRequest, public_id) -> HttpResponse:
    viewer = viewer_for(request)
    try:
        slot = PlannedSlot.objects.get(
            public_id=public_id,
            workspace_id__in=viewer.workspace_ids,
            deleted_at__isnull=False,
        )
    except PlannedSlot.DoesNotExist:
        return HttpResponse("Nothing to undo.", status=404, content_type="text/plain")
    viewer.require(Role.EDITOR, slot.workspace_id, "restore slots")
    if timezone.now() > undo_deadline(slot):
        return HttpResponse("Too late to undo.", status=410, content_type="text/plain")
    services.slot_restore(slot=slot)
    if request.htmx:
        return _slots_changed(HttpResponse(""), "Slot restored.")
    messages.success(request, "Slot restored.")
    return redirect("slot", slot.public_id)


def _local_midnight(day: date, plus_days: int = 0) -> datetime:
    return timezone.make_aware(datetime.combine(day + timedelta(days=plus_days), time(0)))


@login_required
@require_GET
def slot_list(request: HttpRequest) -> HttpResponse:
    viewer = viewer_for(request)
    projects = Project.objects.filter(workspace_id__in=viewer.workspace_ids)
    form = SlotFilterForm(request.GET or None, projects=projects, status_choices=SlotStatus.choices)
    slots = (
        PlannedSlot.objects.alive()
        .for_cards()
        .filter(workspace_id__in=viewer.workspace_ids)
        .order_by("scheduled_for", "id")
    )
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        if data["q"]:
            text = Q(note__text__icontains=data["q"]) | Q(project__name__icontains=data["q"])
            slots = slots.filter(text)
        if data["project"]:
            slots = slots.filter(project=data["project"])
        if data["status"]:
            slots = slots.filter(status=data["status"])
        if data["date_from"]:
            slots = slots.filter(scheduled_for__gte=_local_midnight(data["date_from"]))
        if data["date_to"]:
            slots = slots.filter(scheduled_for__lt=_local_midnight(data["date_to"], 1))
    elif form.is_bound:
        slots = slots.none()
    page = Paginator(slots, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {"form": form, "page": page, "query": query.urlencode(), "zone": viewer.zone.key}
    template = "calendar_app/slot_list.html" + ("#slot-results" if request.htmx else "")
    return render(request, template, context)
