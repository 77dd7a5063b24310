"""Outgoing webhook endpoints through the API (admin scope, reading too): the Webhooks
page's rules (`outbound/services.py`). A new or rotated secret is in that one answer."""

from __future__ import annotations

from contextlib import suppress

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response

from calendar_app.access import webhook_endpoint_for, workspace_for
from calendar_app.api.base import ApiView
from calendar_app.api.envelopes import enveloped, one
from calendar_app.api.serializers import (
    WebhookEndpointChangeSerializer,
    WebhookEndpointSerializer,
    WebhookEndpointWithSecretSerializer,
    WebhookEndpointWriteSerializer,
)
from calendar_app.core.refusals import Refusal
from calendar_app.models import Role
from calendar_app.outbound import selectors, services

TO = "manage webhooks"


def _parsed(serializer_class, request) -> dict:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class _Admin(ApiView):
    read_scope = "admin"
    write_scope = "admin"


class WebhookEndpointList(_Admin):
    @extend_schema(operation_id="webhooks_list", responses=WebhookEndpointSerializer(many=True))
    def get(self, request):
        workspaces = self.viewer.workspaces_with(Role.ADMIN)
        return self.page_of(selectors.endpoints_of(workspaces), WebhookEndpointSerializer)

    @extend_schema(
        operation_id="webhooks_create",
        request=WebhookEndpointWriteSerializer,
        responses={201: enveloped(WebhookEndpointWithSecretSerializer)},
    )
    def post(self, request):
        workspace = workspace_for(self.viewer, self.workspace.public_id, role=Role.ADMIN, to=TO)
        data = _parsed(WebhookEndpointWriteSerializer, request)
        endpoint, secret = services.endpoint_create(workspace=workspace, user=request.user, **data)
        body = one(WebhookEndpointWithSecretSerializer, endpoint, secret=secret)
        return Response(body, status=status.HTTP_201_CREATED)


class WebhookEndpointDetail(_Admin):
    @extend_schema(operation_id="webhooks_show", responses=enveloped(WebhookEndpointSerializer))
    def get(self, request, endpoint_id):
        endpoint = webhook_endpoint_for(self.viewer, endpoint_id)
        return Response(one(WebhookEndpointSerializer, endpoint))

    @extend_schema(
        operation_id="webhooks_update",
        request=WebhookEndpointChangeSerializer,
        responses=enveloped(WebhookEndpointSerializer),
    )
    def patch(self, request, endpoint_id):
        endpoint = webhook_endpoint_for(self.viewer, endpoint_id)
        data = _parsed(WebhookEndpointChangeSerializer, request)
        if {"url", "events", "description"} & set(data):
            services.endpoint_update(
                endpoint=endpoint,
                url=data.get("url", endpoint.url),
                events=data.get("events", endpoint.events),
                description=data.get("description", endpoint.description),
            )
        if "active" in data and data["active"] != endpoint.is_active:
            switch = services.endpoint_enable if data["active"] else services.endpoint_disable
            # Someone else switching it meanwhile leaves it as asked.
            with suppress(Refusal):
                switch(endpoint=endpoint)
            endpoint.refresh_from_db()
        return Response(one(WebhookEndpointSerializer, endpoint))

    @extend_schema(operation_id="webhooks_delete", responses={204: None})
    def delete(self, request, endpoint_id):
        services.endpoint_delete(endpoint=webhook_endpoint_for(self.viewer, endpoint_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class WebhookEndpointRotate(_Admin):
    @extend_schema(
        operation_id="webhooks_rotate",
        request=None,
        responses=enveloped(WebhookEndpointWithSecretSerializer),
    )
    def post(self, request, endpoint_id):
        endpoint = webhook_endpoint_for(self.viewer, endpoint_id)
        secret = services.endpoint_rotate(endpoint=endpoint)
        return Response(one(WebhookEndpointWithSecretSerializer, endpoint, secret=secret))
