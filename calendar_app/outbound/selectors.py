"""Reads for the Webhooks page: a workspace's endpoints and an endpoint's delivery log."""

from __future__ import annotations

from django.db.models import QuerySet

from calendar_app.models import WebhookDelivery, WebhookEndpoint, Workspace

LOG_SIZE = 50


def endpoints_of(workspaces: list[Workspace]) -> QuerySet[WebhookEndpoint]:
    return (
        WebhookEndpoint.objects.filter(workspace__in=workspaces)
        .select_related("workspace")
        .order_by("workspace__name", "created_at", "id")
    )


def delivery_log(endpoint: WebhookEndpoint) -> list[WebhookDelivery]:
    """The endpoint's latest deliveries, newest first, without their bodies."""
    return list(
        WebhookDelivery.objects.filter(endpoint=endpoint)
        .defer("body")
        .order_by("-created_at", "-id")[:LOG_SIZE]
    )
