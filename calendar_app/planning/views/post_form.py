"""The post form the planning pages share (new post, edit, a series' occurrence, the queue's
"Add to queue"): the form for a viewer, its initial values from a slot, the date picker, the
"Generate now" step, and how a saved post is answered."""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django_htmx.http import HttpResponseClientRedirect

from calendar_app.access import Viewer
from calendar_app.core.calendar_grid import (
    build_days,
    month_weeks,
    parse_day,
    shift_month,
)
from calendar_app.core.refusals import Refusal
from calendar_app.pipeline.generation import generation_request
from calendar_app.planning import queue, selectors, services
from calendar_app.planning.forms import SlotForm
from calendar_app.planning.scheduling import MIN_LEAD
from calendar_app.web.answers import done, show_on_form

FORM_TEMPLATE = "calendar_app/slot_form.html"


def post_form_for(viewer: Viewer, **kwargs) -> SlotForm:
    """The post form for this viewer: the projects they plan for, their recent notes, and
    "Add to top of queue" only for someone who may reorder a queue (`queue.may_reorder`)."""
    return SlotForm(
        projects=selectors.plannable_projects(viewer),
        notes=selectors.recent_notes(viewer),
        may_put_first=any(queue.may_reorder(viewer, w) for w in viewer.editable_workspace_ids),
        **kwargs,
    )


def submit(form: SlotForm, viewer: Viewer, service, **kwargs):
    """The service's result, or None with every problem shown on the form: what did not
    parse and, beside it, what the slot rules say about the rest (nothing is saved then)."""
    try:
        if form.is_valid():
            return service(zone=viewer.zone, **form.plan(), **kwargs)
        services.slot_validate(zone=viewer.zone, slot=kwargs.get("slot"), **form.plan())
    except Refusal as refusal:
        show_on_form(form, refusal)
    return None


def initial_of(slot, zone) -> dict:
    """The post form's fields as a planned post has them (Edit, and a series' occurrence)."""
    local = timezone.localtime(slot.scheduled_for, zone)
    return {
        "project": slot.project,
        "note_text": slot.note.text,
        "language": slot.note.language,
        "date": local.date(),
        "time": f"{local:%H:%M}",
    }


def generate_now(slot, user) -> str:
    """Sends a just-planned post to Scripe when its form asked to ("Generate now"), and says
    how that went, to follow the sentence that says it was planned."""
    try:
        generation_request(slot=slot, user=user)
    except Refusal as refusal:
        return " " + _("Not sent to Scripe: %(reason)s") % {"reason": refusal}
    return " " + _("Sent to Scripe.")


def month_of(slot) -> str:
    when = timezone.localtime(slot.scheduled_for)
    return reverse("month", args=[when.year, when.month])


def picker(request: HttpRequest, viewer: Viewer, selected: date | None, shown: date) -> dict:
    """The calendar widget's month: local days, the past ones disabled."""
    today = timezone.localdate()
    weeks = month_weeks(shown.year, shown.month)
    days = build_days([d for w in weeks for d in w], [], viewer.zone, today, shown.month)
    prev_y, prev_m = shift_month(shown.year, shown.month, -1)
    next_y, next_m = shift_month(shown.year, shown.month, 1)
    return {
        "picker_weeks": [[days[d] for d in week] for week in weeks],
        "picker_title": date_format(shown, "YEAR_MONTH_FORMAT"),
        "picker_selected": selected,
        "picker_prev": (
            f"{prev_y:04d}-{prev_m:02d}" if (prev_y, prev_m) >= (today.year, today.month) else None
        ),
        "picker_next": f"{next_y:04d}-{next_m:02d}",
        "picker_min": (timezone.localtime() + MIN_LEAD).strftime("%Y-%m-%dT%H:%M"),
    }


def render_form(
    request: HttpRequest, viewer: Viewer, form: SlotForm, slot=None, month: date | None = None
) -> HttpResponse:
    """The form; its date picker shows the chosen day's month, else `month` (the month the
    calendar showed when New post was pressed, if not past), else this month."""
    selected = parse_day(form["date"].value())
    today = timezone.localdate()
    shown = selected or (month if month and month >= today.replace(day=1) else today)
    context = {"form": form, "slot": slot, "zone": viewer.zone.key}
    context.update(picker(request, viewer, selected, shown))
    template = FORM_TEMPLATE + ("#slot-form" if request.htmx else "")
    return render(request, template, context)


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
