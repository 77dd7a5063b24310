"""How a view answers: one helper for "done", one for "refused", for HTMX and plain requests.

HTMX requests get a status and client events (django-htmx's `trigger_client_event`): `toast`
with the sentence, and `slots-changed`, which every calendar, list, day and review fragment
listens to and refreshes itself on. Plain requests get the sentence as a flash message and a
redirect, so the app works without JavaScript too.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django_htmx.http import trigger_client_event

from calendar_app.core.refusals import Refusal


def refused(request: HttpRequest, refusal: Refusal, *, redirect_to: str) -> HttpResponse:
    """The refusal's status with its sentence (plain text, for scripts that read it) and a
    toast; a stale page is also told to refresh what it shows."""
    if not request.htmx:
        messages.error(request, refusal.message)
        return redirect(redirect_to)
    response = HttpResponse(refusal.message, status=refusal.status, content_type="text/plain")
    trigger_client_event(response, "toast", {"message": refusal.message, "kind": "error"})
    if refusal.stale:
        trigger_client_event(response, "slots-changed", {})
    return response


def done(
    request: HttpRequest,
    message: str,
    *,
    redirect_to: str,
    response: HttpResponse | None = None,
) -> HttpResponse:
    """Success: for HTMX, `response` (204 when there is nothing to swap) with a toast and
    `slots-changed`; otherwise the message and a redirect."""
    if not request.htmx:
        if message:
            messages.success(request, message)
        return redirect(redirect_to)
    response = response if response is not None else HttpResponse(status=204)
    if message:
        trigger_client_event(response, "toast", {"message": message})
    return trigger_client_event(response, "slots-changed", {})


def show_on_form(form: forms.Form, refusal: Refusal) -> None:
    """Puts each of the refusal's messages next to its field (or above the form); a field
    that already says it could not be read keeps that one message."""
    if not refusal.fields:
        form.add_error(None, refusal.message)
    for field, message in refusal.fields.items():
        if field not in form.fields:
            form.add_error(None, message)
        elif field not in form.errors:
            form.add_error(field, message)
