"""The Webhooks page (#27), for a workspace's admins: register an endpoint (its secret shown
once), rotate the secret, turn it off and on, delete it, and per endpoint the delivery log
with "Send again". Everyone else is told who manages webhooks; another workspace's endpoint
does not exist for them (404)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from calendar_app.access import (
    Viewer,
    viewer_for,
    webhook_delivery_for,
    webhook_endpoint_for,
    workspace_for,
)
from calendar_app.core.refusals import Refusal
from calendar_app.models import Role, WebhookDelivery, WebhookEndpoint
from calendar_app.outbound import selectors, services
from calendar_app.outbound.forms import EndpointForm
from calendar_app.web.answers import done, refused, show_on_form

LIST_TEMPLATE = "webhooks/endpoints.html"
DETAIL_TEMPLATE = "webhooks/endpoint.html"


def _list(
    request: HttpRequest, viewer: Viewer, *, form: EndpointForm | None = None, form_for=None
) -> HttpResponse:
    workspaces = viewer.workspaces_with(Role.ADMIN)
    endpoints = list(selectors.endpoints_of(workspaces))
    groups = [
        {
            "workspace": workspace,
            "endpoints": [e for e in endpoints if e.workspace_id == workspace.pk],
            "form": form if form_for == workspace.pk else EndpointForm(),
        }
        for workspace in workspaces
    ]
    return render(request, LIST_TEMPLATE, {"groups": groups, "current": "webhooks"})


def _detail(
    request: HttpRequest,
    endpoint: WebhookEndpoint,
    *,
    secret: str = "",
    form: EndpointForm | None = None,
) -> HttpResponse:
    log = selectors.delivery_log(endpoint)
    context = {
        "endpoint": endpoint,
        "secret": secret,
        "form": form or EndpointForm.of(endpoint),
        "log": log,
        "waiting": any(d.status in (d.Status.PENDING, d.Status.SENDING) for d in log),
        "signature_header": services.SIGNATURE_HEADER,
        "current": "webhooks",
    }
    template = DETAIL_TEMPLATE + ("#delivery-log" if request.htmx else "")
    return render(request, template, context)


@login_required
@require_GET
def endpoint_list(request: HttpRequest) -> HttpResponse:
    return _list(request, viewer_for(request))


@login_required
@require_POST
def endpoint_add(request: HttpRequest, workspace_id) -> HttpResponse:
    viewer = viewer_for(request)
    workspace = workspace_for(viewer, workspace_id, role=Role.ADMIN, to="manage webhooks")
    form = EndpointForm(request.POST)
    try:
        endpoint, secret = services.endpoint_create(
            workspace=workspace, user=request.user, **_typed(request)
        )
    except Refusal as refusal:
        show_on_form(form, refusal)
        return _list(request, viewer, form=form, form_for=workspace.pk)
    # The secret is shown on this answer only: it cannot be read back later.
    return _detail(request, endpoint, secret=secret)


@login_required
@require_http_methods(["GET", "POST"])
def endpoint_detail(request: HttpRequest, public_id) -> HttpResponse:
    """The endpoint's page (GET; its delivery log alone for HTMX), and saving its address,
    events and description (POST)."""
    endpoint = webhook_endpoint_for(viewer_for(request), public_id)
    if request.method == "GET":
        return _detail(request, endpoint)
    form = EndpointForm(request.POST)
    try:
        services.endpoint_update(endpoint=endpoint, **_typed(request))
    except Refusal as refusal:
        show_on_form(form, refusal)
        endpoint.refresh_from_db()
        return _detail(request, endpoint, form=form)
    return done(request, "Endpoint saved.", redirect_to=_here(endpoint))


@login_required
@require_POST
def endpoint_rotate(request: HttpRequest, public_id) -> HttpResponse:
    endpoint = webhook_endpoint_for(viewer_for(request), public_id)
    secret = services.endpoint_rotate(endpoint=endpoint)
    return _detail(request, endpoint, secret=secret)


@login_required
@require_POST
def endpoint_switch(request: HttpRequest, public_id, on: bool) -> HttpResponse:
    endpoint = webhook_endpoint_for(viewer_for(request), public_id)
    try:
        if on:
            services.endpoint_enable(endpoint=endpoint)
        else:
            services.endpoint_disable(endpoint=endpoint)
    except Refusal as refusal:
        return refused(request, refusal, redirect_to=_here(endpoint))
    said = "Endpoint turned on." if on else "Endpoint turned off; nothing is sent to it."
    return done(request, said, redirect_to=_here(endpoint))


@login_required
@require_POST
def endpoint_delete(request: HttpRequest, public_id) -> HttpResponse:
    endpoint = webhook_endpoint_for(viewer_for(request), public_id)
    services.endpoint_delete(endpoint=endpoint)
    return done(request, f"Endpoint {endpoint.url} deleted.", redirect_to=reverse("webhooks"))


@login_required
@require_POST
def delivery_again(request: HttpRequest, public_id) -> HttpResponse:
    delivery: WebhookDelivery = webhook_delivery_for(viewer_for(request), public_id)
    here = _here(delivery.endpoint)
    try:
        services.delivery_send_again(delivery=delivery)
    except Refusal as refusal:
        return refused(request, refusal, redirect_to=here)
    return done(request, "Sending it again.", redirect_to=here)


def _typed(request: HttpRequest) -> dict:
    """What the admin typed, as the service takes it: its rules say what is wrong (the form
    only draws the fields)."""
    return {
        "url": request.POST.get("url", ""),
        "events": request.POST.getlist("events"),
        "description": request.POST.get("description", ""),
    }


def _here(endpoint: WebhookEndpoint) -> str:
    return reverse("webhook_endpoint", args=[endpoint.public_id])
