"""The Webhooks page (#27), for a workspace's admins: register an endpoint (its secret shown
once), rotate the secret, turn it off and on, delete it, and per endpoint the delivery log
with "Send again". Everyone else is told who manages webhooks; another workspace's endpoint
does not exist for them (404)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
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
from calendar_app.web import shown_once
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
    request: HttpRequest, endpoint: WebhookEndpoint, *, form: EndpointForm | None = None
) -> HttpResponse:
    log = selectors.delivery_log(endpoint)
    # A secret just made or rotated, shown on the full page once (never to the log's poll).
    kept = None if request.htmx else shown_once.take(request, _secret_name(endpoint))
    context = {
        "endpoint": endpoint,
        "secret": kept["secret"] if kept else "",
        "form": form or EndpointForm.of(endpoint),
        "log": log,
        "waiting": any(d.status in (d.Status.PENDING, d.Status.SENDING) for d in log),
        "signature_header": services.SIGNATURE_HEADER,
        "current": "webhooks",
    }
    template = DETAIL_TEMPLATE + ("#delivery-log" if request.htmx else "")
    response = render(request, template, context)
    return shown_once.uncached(response) if kept else response


@login_required
@require_GET
def endpoint_list(request: HttpRequest) -> HttpResponse:
    return _list(request, viewer_for(request))


@login_required
@require_http_methods(["GET", "POST"])
def endpoint_add(request: HttpRequest, workspace_id) -> HttpResponse:
    """Registers an endpoint and redirects to its page, which shows its secret once (a
    reload registers nothing twice). Opened by its address, this is the Webhooks page."""
    viewer = viewer_for(request)
    workspace = workspace_for(
        viewer, workspace_id, role=Role.ADMIN, to=gettext_noop("manage webhooks")
    )
    if request.method == "GET":
        return redirect(reverse("webhooks"))
    form = EndpointForm(request.POST)
    try:
        endpoint, secret = services.endpoint_create(
            workspace=workspace, user=request.user, **_typed(request)
        )
    except Refusal as refusal:
        show_on_form(form, refusal)
        return _list(request, viewer, form=form, form_for=workspace.pk)
    return _show_secret(request, endpoint, secret)


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
    return done(request, _("Endpoint saved."), redirect_to=_here(endpoint))


@login_required
@require_POST
def endpoint_rotate(request: HttpRequest, public_id) -> HttpResponse:
    endpoint = webhook_endpoint_for(viewer_for(request), public_id)
    secret = services.endpoint_rotate(endpoint=endpoint)
    return _show_secret(request, endpoint, secret)


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
    said = _("Endpoint turned on.") if on else _("Endpoint turned off; nothing is sent to it.")
    return done(request, said, redirect_to=_here(endpoint))


@login_required
@require_POST
def endpoint_delete(request: HttpRequest, public_id) -> HttpResponse:
    endpoint = webhook_endpoint_for(viewer_for(request), public_id)
    services.endpoint_delete(endpoint=endpoint)
    return done(
        request,
        _("Endpoint %(url)s deleted.") % {"url": endpoint.url},
        redirect_to=reverse("webhooks"),
    )


@login_required
@require_POST
def delivery_again(request: HttpRequest, public_id) -> HttpResponse:
    delivery: WebhookDelivery = webhook_delivery_for(viewer_for(request), public_id)
    here = _here(delivery.endpoint)
    try:
        services.delivery_send_again(delivery=delivery)
    except Refusal as refusal:
        return refused(request, refusal, redirect_to=here)
    return done(request, _("Sending it again."), redirect_to=here)


def _typed(request: HttpRequest) -> dict:
    """What the admin typed, as the service takes it: its rules say what is wrong (the form
    only draws the fields)."""
    return {
        "url": request.POST.get("url", ""),
        "events": request.POST.getlist("events"),
        "description": request.POST.get("description", ""),
    }


def _secret_name(endpoint: WebhookEndpoint) -> str:
    return f"webhook-secret:{endpoint.public_id}"


def _show_secret(request: HttpRequest, endpoint: WebhookEndpoint, secret: str) -> HttpResponse:
    """To the endpoint's page, which shows the new secret once: it is not read back later,
    and a reload of that page neither registers nor rotates again."""
    shown_once.keep(request, _secret_name(endpoint), secret)
    return redirect(_here(endpoint))


def _here(endpoint: WebhookEndpoint) -> str:
    return reverse("webhook_endpoint", args=[endpoint.public_id])
