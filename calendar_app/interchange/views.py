"""Plans in and out: CSV import (upload, preview, confirm), the list's CSV export, the import
template, and the personal iCal feed (its settings are on the settings page, accounts/views.py)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext
from django.views.decorators.http import require_GET, require_http_methods
from django_htmx.http import HttpResponseClientRedirect

from calendar_app.access import viewer_for, workspace_for
from calendar_app.core.refusals import Refusal
from calendar_app.interchange import csv_export, csv_import, ical
from calendar_app.interchange.forms import CsvUploadForm, ImportConfirmForm
from calendar_app.models import Role
from calendar_app.planning import selectors
from calendar_app.planning.forms import filtered_slots
from calendar_app.web.answers import refused, show_on_form


@login_required
@require_GET
def import_start(request: HttpRequest) -> HttpResponse:
    """Straight to the import page of the user's one workspace, or a choice of several."""
    workspaces = viewer_for(request).workspaces_with(Role.EDITOR)
    if not workspaces:
        messages.error(request, _("You are not a member of any workspace yet; ask an admin."))
        return redirect("home")
    if len(workspaces) == 1:
        return redirect("import_upload", workspace_id=workspaces[0].public_id)
    return render(request, "interchange/import_start.html", {"workspaces": workspaces})


@login_required
@require_http_methods(["GET", "POST"])
def import_upload(request: HttpRequest, workspace_id) -> HttpResponse:
    viewer = viewer_for(request)
    workspace = workspace_for(
        viewer, workspace_id, role=Role.EDITOR, to=gettext_noop("import posts")
    )
    posted = request.method == "POST"
    form = CsvUploadForm(
        request.POST if posted else None,
        request.FILES if posted else None,
        max_bytes=csv_import.MAX_BYTES,
    )
    if posted and form.is_valid():
        try:
            upload = csv_import.import_upload(
                workspace=workspace,
                user=request.user,
                data=form.cleaned_data["content"],
                filename=form.cleaned_data["filename"],
            )
        except Refusal as refusal:
            show_on_form(form, refusal)
        else:
            return redirect(
                "import_preview", workspace_id=workspace.public_id, import_id=upload.public_id
            )
    context = {
        "form": form,
        "workspace": workspace,
        "zone": viewer.zone.key,
        "max_bytes": csv_import.MAX_BYTES,
        "max_rows": csv_import.MAX_ROWS,
        "date_policy": csv_import.DATE_POLICY,
    }
    status = 422 if form.errors else 200
    return render(request, "interchange/import.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def import_preview(request: HttpRequest, workspace_id, import_id) -> HttpResponse:
    """The stored upload, row by row as it would be planned; POST imports the ticked rows.
    Both read the stored file again and check every rule now."""
    viewer = viewer_for(request)
    workspace = workspace_for(
        viewer, workspace_id, role=Role.EDITOR, to=gettext_noop("import posts")
    )
    again = reverse("import_upload", args=[workspace.public_id])
    upload = csv_import.import_for(workspace=workspace, user=request.user, public_id=import_id)
    if upload is None:
        messages.error(
            request, _("That preview has expired or was already imported; upload the file again.")
        )
        return redirect(again)
    projects = list(selectors.plannable_projects(viewer))
    try:
        preview = csv_import.import_preview(upload=upload, projects=projects, zone=viewer.zone)
    except Refusal as refusal:
        messages.error(request, refusal.message)
        return redirect(again)
    posted = request.method == "POST"
    form = ImportConfirmForm(request.POST if posted else None, row_count=len(preview.rows))
    status = 200
    if posted:
        if form.is_valid():
            try:
                slots = csv_import.import_confirm(
                    upload=upload,
                    user=request.user,
                    preview=preview,
                    numbers=form.cleaned_data["rows"],
                )
            except Refusal as refusal:
                form.add_error(None, refusal.message)
                status = refusal.status
            else:
                count = len(slots)
                messages.success(
                    request,
                    ngettext(
                        "Imported %(count)s post into %(workspace)s. "
                        "Nothing is sent to Scripe until someone presses Generate.",
                        "Imported %(count)s posts into %(workspace)s. "
                        "Nothing is sent to Scripe until someone presses Generate.",
                        count,
                    )
                    % {"count": count, "workspace": workspace.name},
                )
                return redirect("slots")
        else:
            status = 422
    context = {
        "form": form,
        "workspace": workspace,
        "upload": upload,
        "preview": preview,
        "zone": viewer.zone,
        "again": again,
    }
    return render(request, "interchange/preview.html", context, status=status)


@login_required
@require_GET
def import_template(request: HttpRequest) -> HttpResponse:
    response = HttpResponse("\ufeff" + csv_import.template_csv(), content_type="text/csv")
    response["Content-Disposition"] = 'attachment; filename="scripe-calendar-import.csv"'
    return response


@login_required
@require_GET
def slot_export(request: HttpRequest) -> HttpResponse:
    """The list view's current filter as CSV: every row the list shows over all its pages,
    through the list's own `filtered_slots`, so the two cannot differ (#24)."""
    viewer = viewer_for(request)
    query = request.GET.copy()
    query.pop("page", None)
    form, slots = filtered_slots(viewer, query)
    if form.is_bound and not form.is_valid():
        refusal = Refusal(_("Fix the filters to export what they show."), status=422)
        return refused(request, refusal, redirect_to=reverse("slots") + "?" + query.urlencode())
    if request.htmx:
        # The button beside the filter asks with the filter's current values; a download
        # needs the browser to navigate, so htmx is told to go there.
        return HttpResponseClientRedirect(reverse("slot_export") + "?" + query.urlencode())
    rows = csv_export.export_rows(slots).iterator(chunk_size=csv_export.CHUNK)
    response = StreamingHttpResponse(
        csv_export.export_lines(rows), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{csv_export.export_filename()}"'
    return response


@require_GET
def ical_feed(request: HttpRequest, token: str) -> HttpResponse:
    """A user's feed, by its secret address alone (calendar apps do not sign in); read-only.
    An unknown or revoked token is 404, like any address that does not exist."""
    feed = ical.feed_for_token(token)
    if feed is None:
        raise Http404(_("No such feed."))

    def link_for(slot) -> str:
        return request.build_absolute_uri(reverse("slot", args=[slot.public_id]))

    response = HttpResponse(
        ical.feed_calendar(feed, link_for=link_for), content_type="text/calendar; charset=utf-8"
    )
    response["Content-Disposition"] = 'inline; filename="scripe-calendar.ics"'
    response["Cache-Control"] = "private, max-age=300"
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "no-referrer"
    return response
