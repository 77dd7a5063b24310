"""Generate, cancel and retry, and the live endpoint that keeps in-flight cards current.

Live updates: one request per page every two seconds, whatever the number of cards. The page
sends the ids of its in-flight cards, slot panels and list rows; the answer is their fresh
partials as out-of-band swaps. We chose this over one poller per card (cost grows with the
cards) and over server-sent events (a long-lived connection per tab ties up a worker of a sync
WSGI server). The page stops asking once nothing on it is in flight: the swapped-in partials
of finished slots no longer carry `data-in-flight`. The answer's status says the same to any
other client: 286 (htmx's "stop polling") when none of the slots asked about is in flight.
"""

from __future__ import annotations

import uuid

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseStopPolling

from calendar_app import selectors
from calendar_app.access import slot_for, viewer_for
from calendar_app.generation import generation_cancel, generation_request
from calendar_app.refusals import Refusal
from calendar_app.views.answers import done, refused

MAX_LIVE_IDS = 200


@login_required
@require_POST
def slot_generate(request: HttpRequest, public_id) -> HttpResponse:
    """Generate a draft slot, or Retry a failed or cancelled one."""
    slot = slot_for(request, public_id, to="generate posts")
    here = reverse("slot", args=[slot.public_id])
    retry = slot.generate_label == "Retry"
    try:
        generation_request(slot=slot, user=request.user)
    except Refusal as refusal:
        return refused(request, refusal, redirect_to=here)
    return done(request, "Sent to Scripe again." if retry else "Sent to Scripe.", redirect_to=here)


@login_required
@require_POST
def slot_cancel(request: HttpRequest, public_id) -> HttpResponse:
    slot = slot_for(request, public_id, to="cancel generations")
    here = reverse("slot", args=[slot.public_id])
    try:
        message = generation_cancel(slot=slot)
    except Refusal as refusal:
        return refused(request, refusal, redirect_to=here)
    return done(request, message, redirect_to=here)


def _ids(request: HttpRequest, name: str) -> list[str]:
    """The UUIDs in a comma-separated parameter; anything else is ignored."""
    ids = []
    for raw in request.GET.get(name, "").split(",")[:MAX_LIVE_IDS]:
        try:
            ids.append(str(uuid.UUID(raw)))
        except ValueError:
            continue
    return ids


@login_required
@require_GET
def slots_live(request: HttpRequest) -> HttpResponse:
    viewer = viewer_for(request)
    cards, panels, rows = _ids(request, "cards"), _ids(request, "panels"), _ids(request, "rows")
    by_id = selectors.slots_by_public_ids(viewer, [*cards, *panels, *rows])
    context = {
        "cards": [by_id[i] for i in cards if i in by_id],
        "panels": [by_id[i] for i in panels if i in by_id],
        "rows": [by_id[i] for i in rows if i in by_id],
        "zone": viewer.zone.key,
    }
    response = render(request, "calendar_app/live.html", context)
    if not any(slot.is_in_flight for slot in by_id.values()):
        return HttpResponseStopPolling(response.content)
    return response
