"""The workspace's Scripe projects (read-only: Scripe keeps them; the sync mirrors them)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from calendar_app.access import project_for
from calendar_app.api import selectors
from calendar_app.api.base import ApiView
from calendar_app.api.envelopes import enveloped, one
from calendar_app.api.serializers import ProjectSerializer


class ProjectList(ApiView):
    ordering = ("name", "id")

    @extend_schema(operation_id="projects_list", responses=ProjectSerializer(many=True))
    def get(self, request):
        return self.page_of(selectors.projects(self.viewer), ProjectSerializer)


class ProjectDetail(ApiView):
    @extend_schema(operation_id="projects_show", responses=enveloped(ProjectSerializer))
    def get(self, request, project_id):
        return Response(one(ProjectSerializer, project_for(self.viewer, project_id)))
