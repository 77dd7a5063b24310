"""The live endpoint that keeps pages current.

One request per page per interval, whatever the number of cards: every 2 s while
anything on the page is in flight, every 20 s otherwise (a heartbeat, paused in hidden tabs;
see js/live.js). The page says what it already shows: `since` (a token from the page or the last
answer: everything written before it is on the page), the window it shows (`view=calendar`
with local days `from`..`to` and a `project`, or `view=list` with the list's filters), the
slot of an open panel (`panel`), and the versions of cards whose state may be undone without
a new write (`check=<id>.<version>`: a refused approval restores the slot exactly). A post's
own page, where nothing else refreshes, also asks at once after an action of its own
(Generate, Cancel, Retry), so its panel shows the new state without waiting for a heartbeat.

The answer costs one indexed query when nothing changed: the slots written after `since` in
the viewer's workspaces (on `(workspace, updated_at)`), and is then 204 with a new token.
Otherwise it is the cards (or list rows) that changed within the window, the open panel
and its activity trail if its slot changed, and `data-live-gone` markers for changed slots
that are no longer in the window (deleted, moved or filtered out); js/live.js swaps cards
that changed in place and asks the region to refresh itself when one was added, removed or
moved. We chose this over
re-rendering every in-flight card on every poll (cost grew with the cards) and over
server-sent events (a long-lived connection per tab ties up a worker of a sync WSGI server).

Two counts ride along the same way: the page sends the count its bell shows (`bell=`) and,
for managers, the count beside Review in the menu (`review=`); each costs one query only when
sent, and comes back (out of band) only when it moved, so "nothing changed" stays a 204.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from calendar_app.access import Viewer, slot_visible_to, viewer_for
from calendar_app.core.calendar_grid import parse_day
from calendar_app.notifications.selectors import unread_count
from calendar_app.planning import selectors
from calendar_app.planning.forms import SlotFilterForm
from calendar_app.planning.live import live_token, to_micros, token_read
from calendar_app.review.selectors import review_count
from calendar_app.templatetags.cards import render_cards
from calendar_app.web.fragments import bell_html, review_count_html

MAX_LIVE_IDS = 200
# More changes than this at once (an import, a bulk edit) and the page reloads its region.
MAX_LIVE_CHANGES = 200
# The widest calendar window: a month grid of six weeks.
MAX_WINDOW = timedelta(days=42)


def _uuid(raw: str) -> str | None:
    try:
        return str(uuid.UUID(raw))
    except ValueError:
        return None


def _checks(request: HttpRequest) -> dict[str, int]:
    """`check=<id>.<version>,...`: cards the page wants compared by version."""
    checks = {}
    for item in request.GET.get("check", "").split(",")[:MAX_LIVE_IDS]:
        raw_id, _, raw_version = item.partition(".")
        public_id = _uuid(raw_id)
        if public_id and raw_version.isdigit() and len(raw_version) <= 17:
            checks[public_id] = int(raw_version)
    return checks


def _window(request: HttpRequest, viewer: Viewer):
    """The page's kind ("calendar" or "list") and the query of the slots it shows; (None,
    None) when the page names no window, or one that makes no sense."""
    view = request.GET.get("view", "")
    if view == "calendar":
        first, last = parse_day(request.GET.get("from")), parse_day(request.GET.get("to"))
        project = request.GET.get("project", "")
        label = request.GET.get("label", "")  # a label's public id (#15)
        if first is None or last is None or not timedelta(0) <= last - first <= MAX_WINDOW:
            return None, None
        if not project.isprintable() or len(project) > 80:
            return None, None
        if label and _uuid(label) is None:
            return None, None
        status = request.GET.get("status", "")  # a status, "at_risk" or none (#18)
        return view, selectors.calendar_window(
            viewer, first, last, project_scripe_id=project, label_id=label, status=status
        )
    if view == "list":
        form = SlotFilterForm(
            request.GET,
            projects=selectors.visible_projects(viewer),
        )
        if not form.is_valid():
            return None, None
        return view, selectors.slots_filtered(viewer, form.cleaned_data)
    return None, None


def _answer(response: HttpResponse, token: int) -> HttpResponse:
    response["X-Live-Since"] = str(token)
    return response


def _bell(request: HttpRequest, name: str = "bell") -> int | None:
    """`bell=<count>` (or `review=<count>`): the count the page's bell (or its Review link in
    the menu) shows (none: nothing to keep)."""
    raw = request.GET.get(name, "")
    return int(raw) if raw.isdigit() and len(raw) <= 9 else None


def _with_bell(
    response: HttpResponse, request: HttpRequest, unread: int | None, waiting: int | None = None
) -> HttpResponse:
    """Adds the bell and the Review count, out of band, each when its count is not the one
    the page shows."""
    extra = ""
    if unread is not None:
        extra += bell_html(request, unread, oob=True)
    if waiting is not None:
        extra += review_count_html(waiting, oob=True)
    if extra:
        response.status_code = 200 if response.status_code == 204 else response.status_code
        response.content += extra.encode()
    return response


@login_required
@require_GET
def slots_live(request: HttpRequest) -> HttpResponse:
    """What changed on the asking page since it last asked (see the module's docstring)."""
    viewer = viewer_for(request)
    since = token_read(request.GET.get("since", ""))
    token = live_token()
    if since is None:
        # A page without a baseline starts from now; there is nothing it could be missing.
        return _answer(HttpResponse(status=204), token)
    token = max(token, to_micros(since))  # never behind what the page already has
    # The bell: one count on the partial index of unread rows; sent back only when it moved.
    bell_shows = _bell(request)
    unread = unread_count(request.user) if bell_shows is not None else None
    if unread == bell_shows:
        unread = None
    # The Review count, for managers, the same way: one count when the page shows one.
    review_shows = _bell(request, "review")
    waiting = review_count(viewer) if review_shows is not None else None
    if waiting == review_shows:
        waiting = None
    counts = (unread, waiting)
    checks = _checks(request)
    rows = selectors.slots_changed_since(
        viewer, since, recheck=checks.keys(), limit=MAX_LIVE_CHANGES
    )
    changed = {
        pk: str(public_id)
        for pk, public_id, updated_at in rows
        if updated_at > since or checks.get(str(public_id)) != to_micros(updated_at)
    }
    if not changed:
        return _with_bell(_answer(HttpResponse(status=204), token), request, *counts)
    if len(rows) > MAX_LIVE_CHANGES:
        response = _answer(HttpResponse(status=204), token)
        response["X-Live-Refresh"] = "1"
        return _with_bell(response, request, *counts)
    kind, window = _window(request, viewer)
    shown = []
    if window is not None:
        shown = list(window.filter(pk__in=changed))
        if kind == "calendar":
            render_cards(shown, viewer=viewer)
    panel = _uuid(request.GET.get("panel", ""))
    panels = []
    if panel in changed.values():
        slot = slot_visible_to(viewer, panel)
        panels = [(slot, selectors.slot_events(slot))] if slot is not None else []
    in_window = {slot.pk for slot in shown}
    context = {
        "cards": shown if kind == "calendar" else [],
        "rows": shown if kind == "list" else [],
        "panels": panels,
        "gone": [public_id for pk, public_id in changed.items() if pk not in in_window],
        "zone": viewer.zone.key,
    }
    response = render(request, "calendar_app/live.html", context)
    return _with_bell(_answer(response, token), request, *counts)
