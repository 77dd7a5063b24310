"""Plans in and out: the list's CSV export."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.urls import reverse
from django.views.decorators.http import require_GET
from django_htmx.http import HttpResponseClientRedirect

from calendar_app import exports, selectors
from calendar_app.access import viewer_for
from calendar_app.forms import SlotFilterForm
from calendar_app.models import SlotStatus
from calendar_app.refusals import Refusal
from calendar_app.views.answers import refused


@login_required
@require_GET
def slot_export(request: HttpRequest) -> HttpResponse:
    """The list view's current filter as CSV (the same form and selector as the list)."""
    viewer = viewer_for(request)
    query = request.GET.copy()
    query.pop("page", None)
    form = SlotFilterForm(
        request.GET or None,
        projects=selectors.visible_projects(viewer),
        status_choices=SlotStatus.choices,
    )
    if form.is_bound and not form.is_valid():
        refusal = Refusal("Fix the filters to export what they show.", status=422)
        return refused(request, refusal, redirect_to=reverse("slots") + "?" + query.urlencode())
    if request.htmx:
        # The button beside the filter asks with the filter's current values; a download
        # needs the browser to navigate, so htmx is told to go there.
        return HttpResponseClientRedirect(reverse("slot_export") + "?" + query.urlencode())
    data = form.cleaned_data if form.is_bound else {}
    slots = selectors.slots_matching(
        viewer,
        text=data.get("q", ""),
        project=data.get("project"),
        status=data.get("status", ""),
        date_from=data.get("date_from"),
        date_to=data.get("date_to"),
    )
    rows = exports.export_rows(slots).iterator(chunk_size=exports.CHUNK)
    response = StreamingHttpResponse(
        exports.export_lines(rows), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{exports.export_filename()}"'
    return response
