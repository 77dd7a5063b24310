"""Generate and cancel: a person asks Scripe to write a post, or stops it."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.http import require_POST

from calendar_app.access import slot_for
from calendar_app.core.refusals import Refusal
from calendar_app.pipeline.generation import generation_cancel, generation_request
from calendar_app.web.answers import done, refused


@login_required
@require_POST
def slot_generate(request: HttpRequest, public_id) -> HttpResponse:
    """Generate a draft slot, or Retry a failed or cancelled one."""
    slot = slot_for(request, public_id, to=gettext_noop("generate posts"))
    here = reverse("slot", args=[slot.public_id])
    retry = slot.generate_label == "Retry"
    try:
        generation_request(slot=slot, user=request.user)
    except Refusal as refusal:
        return refused(request, refusal, redirect_to=here)
    said = _("Sent to Scripe again.") if retry else _("Sent to Scripe.")
    return done(request, said, redirect_to=here)


@login_required
@require_POST
def slot_cancel(request: HttpRequest, public_id) -> HttpResponse:
    slot = slot_for(request, public_id, to=gettext_noop("cancel generations"))
    here = reverse("slot", args=[slot.public_id])
    try:
        message = generation_cancel(slot=slot)
    except Refusal as refusal:
        return refused(request, refusal, redirect_to=here)
    return done(request, message, redirect_to=here)
