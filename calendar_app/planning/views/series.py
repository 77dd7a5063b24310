"""Recurring series (#15): planned from the new-post form ("Plan series"), a page per series
listing its occurrences, deleting it, and editing an occurrence as "this one" or "this and
following"."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from calendar_app.access import Viewer, series_for, slot_for, viewer_for
from calendar_app.core.calendar_grid import parse_day
from calendar_app.core.refusals import Refusal
from calendar_app.models import Role
from calendar_app.planning import selectors
from calendar_app.planning import series as series_rules
from calendar_app.planning.forms import RepeatForm, SlotForm
from calendar_app.planning.views.post_form import (
    FORM_TEMPLATE,
    initial_of,
    picker,
    post_form_for,
    saved,
)
from calendar_app.web.answers import done, refused, show_on_form

SCOPES = ("this", "following")


def render_form(
    request: HttpRequest,
    viewer: Viewer,
    form: SlotForm,
    repeat_form: RepeatForm | None = None,
    slot=None,
    scope: str = "this",
) -> HttpResponse:
    selected = parse_day(form["date"].value())
    shown = selected or timezone.localdate()
    context = {
        "form": form,
        "repeat_form": repeat_form,
        "slot": slot,
        "scope": scope,
        "zone": viewer.zone.key,
    }
    context.update(picker(request, viewer, selected, shown))
    template = FORM_TEMPLATE + ("#slot-form" if request.htmx else "")
    return render(request, template, context)


@login_required
@require_POST
def series_new(request: HttpRequest) -> HttpResponse:
    """The new-post form's "Plan series": the form's post becomes the first occurrence."""
    viewer = viewer_for(request)
    if not viewer.editable_workspace_ids:
        raise Http404(_("No workspace to plan in."))
    form = post_form_for(viewer, data=request.POST)
    repeat_form = RepeatForm(request.POST)
    series = None
    if form.is_valid() and repeat_form.is_valid():
        try:
            series = series_rules.series_create(
                user=request.user, zone=viewer.zone, rule=repeat_form.rule(), **form.plan()
            )
        except Refusal as refusal:
            show_on_form(form, refusal)
            for field, message in refusal.fields.items():
                if field in repeat_form.fields:
                    repeat_form.add_error(field, message)
    if series is None:
        return render_form(request, viewer, form, repeat_form)
    made = selectors.series_planned_count(series)
    rule = series_rules.Rule.of(series).describe()
    text = ngettext(
        "Series planned: %(rule)s; %(count)s post in the next 8 weeks.",
        "Series planned: %(rule)s; %(count)s posts in the next 8 weeks.",
        made,
    ) % {"rule": rule, "count": made}
    return done(request, text, redirect_to=reverse("series", args=[series.public_id]))


@login_required
@require_GET
def series_detail(request: HttpRequest, public_id) -> HttpResponse:
    series = series_for(viewer_for(request), public_id)
    viewer = viewer_for(request)
    occurrences = selectors.series_occurrences(series)
    context = {
        "series": series,
        "rule": series_rules.Rule.of(series).describe(),
        "occurrences": occurrences,
        "zone": series.workspace.time_zone,
        "can_edit": viewer.can(Role.EDITOR, series.workspace_id),
    }
    return render(request, "series/detail.html", context)


@login_required
@require_POST
def series_delete(request: HttpRequest, public_id) -> HttpResponse:
    series = series_for(viewer_for(request), public_id, to=gettext_noop("delete series"))
    here = reverse("series", args=[series.public_id])
    try:
        deleted, kept = series_rules.series_delete(series=series)
    except Refusal as refusal:
        return refused(request, refusal, redirect_to=here)
    words = {"count": deleted, "kept": kept}
    if kept:
        text = (
            ngettext(
                "Series deleted: %(count)s post not yet written removed, %(kept)s kept (written, "
                "scheduled or published).",
                "Series deleted: %(count)s posts not yet written removed, %(kept)s kept (written, "
                "scheduled or published).",
                deleted,
            )
            % words
        )
    else:
        text = (
            ngettext(
                "Series deleted: %(count)s post not yet written removed.",
                "Series deleted: %(count)s posts not yet written removed.",
                deleted,
            )
            % words
        )
    return done(request, text, redirect_to=reverse("home"))


@login_required
@require_http_methods(["GET", "POST"])
def occurrence_edit(request: HttpRequest, slot_id) -> HttpResponse:
    """Edit an occurrence: "this one" (only this post) or "this and following" (the series
    from here on)."""
    viewer = viewer_for(request)
    slot = slot_for(request, slot_id, to=gettext_noop("edit posts"))
    occurrence = selectors.occurrence_of(slot)
    if occurrence is None:
        raise Http404(_("This post is not part of a series."))
    here = reverse("slot", args=[slot.public_id])
    if request.method == "GET":
        try:
            slot.require_editable()
        except Refusal as refusal:
            return refused(request, refusal, redirect_to=here)
        form = post_form_for(viewer, initial=initial_of(slot, viewer.zone))
        return render_form(request, viewer, form, slot=slot)
    form = post_form_for(viewer, data=request.POST)
    scope = request.POST.get("scope", "this")
    if scope not in SCOPES:
        scope = "this"
    if form.is_valid():
        try:
            if scope == "this":
                series_rules.occurrence_edit_one(
                    occurrence=occurrence, user=request.user, zone=viewer.zone, **form.plan()
                )
                return saved(request, slot, _("This post saved."), to=here)
            new = series_rules.occurrence_edit_following(
                occurrence=occurrence, user=request.user, zone=viewer.zone, **form.plan()
            )
            return saved(
                request,
                slot,
                _("This and the following posts of the series saved."),
                to=reverse("series", args=[new.public_id]),
            )
        except Refusal as refusal:
            if not refusal.fields and refusal.stale:
                return refused(request, refusal, redirect_to=here)
            show_on_form(form, refusal)
    return render_form(request, viewer, form, slot=slot, scope=scope)
