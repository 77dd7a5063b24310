"""The caller's workspaces: with a token, the token's one, and their role there."""

from __future__ import annotations

from django.utils.translation import gettext_noop
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from calendar_app.access import membership_for
from calendar_app.api import selectors
from calendar_app.api.base import ApiView
from calendar_app.api.envelopes import enveloped, one
from calendar_app.api.serializers import WorkspaceSerializer
from calendar_app.models import Role


class WorkspaceList(ApiView):
    ordering = ("created_at", "id")

    @extend_schema(operation_id="workspaces_list", responses=WorkspaceSerializer(many=True))
    def get(self, request):
        return self.page_of(selectors.memberships(self.viewer), WorkspaceSerializer)


class WorkspaceDetail(ApiView):
    @extend_schema(operation_id="workspaces_show", responses=enveloped(WorkspaceSerializer))
    def get(self, request, workspace_id):
        membership = membership_for(
            self.viewer, workspace_id, role=Role.EDITOR, to=gettext_noop("see it")
        )
        return Response(one(WorkspaceSerializer, membership))
