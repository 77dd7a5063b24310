"""Generate, cancel and retry, and the live endpoint that keeps in-flight cards current.

Live updates: one request per page every two seconds, whatever the number of cards. The page
sends the ids of its in-flight cards, slot panels and list rows; the answer is their fresh
partials as out-of-band swaps. We chose this over one poller per card (cost grows with the
cards) and over server-sent events (a long-lived connection per tab ties up a worker of a sync
WSGI server). When nothing asked about is still in flight the answer is 286, and the page
stops asking until something new is in flight.
"""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from calendar_app.access import slot_for, viewer_for
from calendar_app.generation import GenerationRefused, generation_cancel, generation_request
from calendar_app.models import PlannedSlot

MAX_LIVE_IDS = 200
STOP_POLLING = 286


def _answer(request: HttpRequest, slot: PlannedSlot, message: str, *, ok: bool) -> HttpResponse:
    if request.htmx:
        if not ok:
            return HttpResponse(message, status=409, content_type="text/plain")
        response = HttpResponse(status=204)
        response["HX-Trigger"] = json.dumps({"slots-changed": True, "toast": {"message": message}})
        return response
    (messages.success if ok else messages.error)(request, message)
    return redirect("slot", slot.public_id)


@login_required
@require_POST
def slot_generate(request: HttpRequest, public_id) -> HttpResponse:
    """Generate a draft slot, or Retry a failed or cancelled one."""
    slot = slot_for(request, public_id, to="generate posts")
    retry = slot.status in ("failed", "cancelled")
    try:
        generation_request(slot=slot, user=request.user)
    except GenerationRefused as refusal:
        return _answer(request, slot, str(refusal), ok=False)
    return _answer(request, slot, "Sent to Scripe again." if retry else "Sent to Scripe.", ok=True)


@login_required
@require_POST
def slot_cancel(request: HttpRequest, public_id) -> HttpResponse:
    slot = slot_for(request, public_id, to="cancel generations")
    try:
        message = generation_cancel(slot=slot)
    except GenerationRefused as refusal:
        return _answer(request, slot, str(refusal), ok=False)
    return _answer(request, slot, message, ok=True)


def _ids(request: HttpRequest, name: str) -> list[str]:
    raw = request.GET.get(name, "")
    return [i for i in raw.split(",") if len(i) == 36][:MAX_LIVE_IDS]


@login_required
@require_GET
def slots_live(request: HttpRequest) -> HttpResponse:
    viewer = viewer_for(request)
    cards, panels, rows = _ids(request, "cards"), _ids(request, "panels"), _ids(request, "rows")
    slots = list(
        PlannedSlot.objects.alive()
        .for_cards()
        .filter(workspace_id__in=viewer.workspace_ids, public_id__in={*cards, *panels, *rows})
    )
    by_id = {str(s.public_id): s for s in slots}
    context = {
        "cards": [by_id[i] for i in cards if i in by_id],
        "panels": [by_id[i] for i in panels if i in by_id],
        "rows": [by_id[i] for i in rows if i in by_id],
        "zone": viewer.zone.key,
    }
    in_flight = any(s.is_in_flight for s in slots)
    return render(
        request, "calendar_app/live.html", context, status=200 if in_flight else STOP_POLLING
    )
