"""Insights (#18): the page for managers and admins, each chart's CSV, and the admins' spend
gauge in the top bar.

Charts are SVG drawn on the server from the numbers `insights.selectors` computes, with the
geometry from `insights.charts`: no JavaScript, nothing for the Content-Security-Policy to
allow, and the same numbers go to the table under each chart and its CSV.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from calendar_app.access import Viewer, viewer_for
from calendar_app.core.tables import Table
from calendar_app.insights import selectors as insights
from calendar_app.insights.charts import (
    burn_down,
    duration,
    duration_lines,
    outcome_classes,
    project_rows,
    stacked_bars,
    turnaround_bars,
)
from calendar_app.insights.forms import InsightsFilterForm
from calendar_app.interchange.csv_export import neutralise
from calendar_app.models import Role
from calendar_app.pipeline.spend import spend_today
from calendar_app.planning import selectors
from calendar_app.planning.at_risk import MIN_SAMPLES

CHARTS = ("posts", "outcomes", "review", "projects", "spend", "at-risk")


def _scope(request: HttpRequest, viewer: Viewer) -> tuple[insights.Scope, InsightsFilterForm]:
    """The scope the query asks for, within the workspaces the viewer manages: an editor (a
    member who manages none) is refused, someone else's workspace does not exist (404)."""
    managed = viewer.workspaces_with(Role.MANAGER)
    if not managed:
        raise PermissionDenied(_("Only managers and admins see insights."))
    form = InsightsFilterForm(request.GET or None, workspaces=managed)
    workspace, project, label = managed[0], None, None
    if form.is_bound:
        if not form.is_valid():
            raise Http404(_("No such workspace, project or label."))
        data = form.cleaned_data
        project, label = data["project"], data["label"]
        workspace = next((w for w in managed if data["workspace"] == w), None)
        if workspace is None:
            # No workspace named: the one of the project or label asked for, else the first.
            named = project or label
            wanted = named.workspace_id if named else managed[0].pk
            workspace = next(w for w in managed if w.pk == wanted)
        for chosen in (project, label):
            if chosen is not None and chosen.workspace_id != workspace.pk:
                raise Http404(_("No such project or label in this workspace."))
    return insights.Scope(workspace, viewer.zone, project, label), form


# Views ------------------------------------------------------------------------------------------


def _chart(name: str, scope: insights.Scope, now):
    today = timezone.localtime(now, scope.zone).date()
    if name == "posts":
        return insights.posts_by_week(scope, today=today)
    if name == "outcomes":
        return insights.generation_outcomes(scope, today=today)
    if name == "review":
        return insights.review_turnaround(scope, today=today)
    if name == "projects":
        return insights.planned_vs_published(scope, today=today)
    if name == "spend":
        return spend_today([scope.workspace], now=now)[scope.workspace.pk]
    raise Http404(_("No such chart."))


@login_required
@require_GET
def insights_page(request: HttpRequest) -> HttpResponse:
    viewer = viewer_for(request)
    scope, form = _scope(request, viewer)
    now = timezone.now()
    posts, outcomes, review, projects, spend = (
        _chart(name, scope, now) for name in ("posts", "outcomes", "review", "projects", "spend")
    )
    at_risk, usual = insights.at_risk_slots(scope, now=now)
    query = request.GET.urlencode()
    # The same posts on the calendar (projects by Scripe id) and in the list (by pk).
    on_calendar, in_list = {"status": selectors.AT_RISK}, {"status": selectors.AT_RISK}
    if scope.project:
        on_calendar["project"], in_list["project"] = scope.project.scripe_id, scope.project.pk
    if scope.label:
        on_calendar["label"] = in_list["label"] = str(scope.label.public_id)
    today = timezone.localtime(now, viewer.zone).date()
    context = {
        "risk_week_url": f"{reverse('week', args=[today.isoformat()])}?{urlencode(on_calendar)}",
        "risk_list_url": f"{reverse('slots')}?{urlencode(in_list)}",
        "min_samples": MIN_SAMPLES,
        "form": form,
        "scope": scope,
        "query": query,
        "posts": posts,
        "posts_svg": stacked_bars(posts),
        "status_groups": insights.STATUS_GROUPS,
        "outcomes": outcomes,
        "outcomes_svg": stacked_bars(
            outcomes.stacks, width=420, height=200, classes=outcome_classes(outcomes)
        ),
        "durations_svg": duration_lines(outcomes),
        "overall_median": duration(outcomes.overall.median),
        "overall_p90": duration(outcomes.overall.p90),
        "review": review,
        "review_svg": turnaround_bars(review),
        "review_rows": [
            (t, duration(t.median), duration(t.p90)) for t in [*review.managers, review.overall]
        ],
        "projects": projects,
        "projects_svg": project_rows(projects),
        "spend": spend,
        "spend_svg": burn_down(spend),
        "at_risk": at_risk,
        "usual": usual,
        "usual_generation": duration(usual.generation.total_seconds()),
        "usual_review": duration(usual.review.total_seconds()),
        "zone": viewer.zone.key,
        "several_workspaces": len(viewer.workspaces_with(Role.MANAGER)) > 1,
    }
    return render(request, "insights/page.html", context)


@login_required
@require_GET
def insights_csv(request: HttpRequest, chart: str) -> HttpResponse:
    """One chart's numbers as CSV, for the page's scope (the same query string)."""
    if chart not in CHARTS:
        raise Http404(_("No such chart."))
    viewer = viewer_for(request)
    scope, _shown = _scope(request, viewer)
    now = timezone.now()
    if chart == "at-risk":
        slots, _more = insights.at_risk_slots(scope, now=now, limit=1000)
        table = Table(
            [_("Time (UTC)"), _("Project"), _("Status"), _("Hours left"), _("Note")],
            [
                [
                    f"{s.scheduled_for.astimezone(UTC):%Y-%m-%d %H:%M}",
                    s.project.name,
                    s.get_status_display(),
                    round(s.time_left.total_seconds() / 3600, 2),
                    s.note.excerpt,
                ]
                for s in slots
            ],
        )
    else:
        table = _chart(chart, scope, now).table()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(table.headers)
    for row in table.rows:
        writer.writerow([neutralise(v) if isinstance(v, str) else v for v in row])
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    name = f"insights-{chart}-{timezone.localdate(now, scope.zone):%Y-%m-%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@login_required
@require_GET
def spend_gauge(request: HttpRequest) -> HttpResponse:
    """The top bar's gauge, for admins: today's spend of each workspace they administer (one
    query), loaded after the page like the bell."""
    viewer = viewer_for(request)
    workspaces = viewer.workspaces_with(Role.ADMIN)
    if not workspaces:
        return HttpResponse("")
    spends = spend_today(workspaces)
    gauges = [(w, spends[w.pk]) for w in workspaces]
    return render(request, "insights/gauge.html#gauge", {"gauges": gauges})
