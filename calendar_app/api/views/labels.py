"""The workspace's labels: anyone reads them; managers add, change and delete them (the
Labels page's rules, `planning/labels.py`)."""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response

from calendar_app.access import label_for, workspace_for
from calendar_app.api import selectors
from calendar_app.api.base import ApiView
from calendar_app.api.envelopes import enveloped, one
from calendar_app.api.serializers import (
    LabelChangeSerializer,
    LabelSerializer,
    LabelWriteSerializer,
)
from calendar_app.models import Role
from calendar_app.planning import labels as label_services

TO = "manage labels"


def _parsed(serializer_class, request, **kwargs) -> dict:
    serializer = serializer_class(data=request.data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class LabelList(ApiView):
    ordering = ("name", "id")

    @extend_schema(operation_id="labels_list", responses=LabelSerializer(many=True))
    def get(self, request):
        return self.page_of(selectors.labels(self.viewer), LabelSerializer)

    @extend_schema(
        operation_id="labels_create",
        request=LabelWriteSerializer,
        responses={201: enveloped(LabelSerializer)},
    )
    def post(self, request):
        workspace = workspace_for(self.viewer, self.workspace.public_id, role=Role.MANAGER, to=TO)
        data = _parsed(LabelWriteSerializer, request)
        label = label_services.label_create(workspace=workspace, **data)
        return Response(one(LabelSerializer, label), status=status.HTTP_201_CREATED)


class LabelDetail(ApiView):
    @extend_schema(operation_id="labels_show", responses=enveloped(LabelSerializer))
    def get(self, request, label_id):
        label = selectors.labels(self.viewer).filter(public_id=label_id).first()
        if label is None:
            raise Http404("No such label.")
        return Response(one(LabelSerializer, label))

    @extend_schema(
        operation_id="labels_update",
        request=LabelChangeSerializer,
        responses=enveloped(LabelSerializer),
    )
    def patch(self, request, label_id):
        label = label_for(self.viewer, label_id, to=TO)
        data = _parsed(LabelChangeSerializer, request)
        label = label_services.label_update(
            label=label, name=data.get("name", label.name), colour=data.get("colour", label.colour)
        )
        return Response(one(LabelSerializer, label))

    @extend_schema(operation_id="labels_delete", responses={204: None})
    def delete(self, request, label_id):
        label_services.label_delete(label=label_for(self.viewer, label_id, to=TO))
        return Response(status=status.HTTP_204_NO_CONTENT)
