"""Sources (#26) through the API: list, show (status, progress, the text preview, duration,
topics and hooks with the posts planned from them), add a text or a link, and plan posts
from hooks at the project's next queue times (the same hooks plan nothing twice); through
the sources' services, with their rules and sentences. Files are uploaded in the browser."""

from __future__ import annotations

from django.utils.translation import gettext_noop
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from calendar_app.access import source_for
from calendar_app.api import selectors
from calendar_app.api.base import ApiView
from calendar_app.api.envelopes import enveloped, one
from calendar_app.api.fields import Text
from calendar_app.api.serializers import PostSerializer, SourceSerializer
from calendar_app.api.views.posts import _parsed
from calendar_app.core.refusals import Refusal
from calendar_app.models import Role
from calendar_app.planning import selectors as planning_selectors
from calendar_app.sources import services

SOURCE_FIELDS = {"project": "projectId", "text": "text", "url": "url", "hooks": "hookIds"}


class SourceWriteSerializer(serializers.Serializer):
    """A text or a link (not both). A recording or document file is uploaded on the
    Sources page in the browser (it shows the upload's progress); the API does not take
    files."""

    projectId = Text(max_length=80, help_text="The project's Scripe id.")
    text = Text(allow_blank=True, required=False, default="", help_text="Text, at most 1 MB.")
    url = Text(
        allow_blank=True,
        required=False,
        default="",
        max_length=2000,
        help_text="A public web page, read as text.",
    )
    name = Text(allow_blank=True, required=False, default="", max_length=80)


class HooksPlanSerializer(serializers.Serializer):
    hookIds = serializers.ListField(
        child=Text(max_length=80),
        max_length=100,
        help_text="Ids of the source's hooks (`topics[].hooks[].id`).",
    )


class HookOutcomeSerializer(serializers.Serializer):
    hookId = Text(read_only=True)
    planned = serializers.BooleanField(
        read_only=True, help_text="false: this hook's post was planned before; it is answered."
    )
    post = PostSerializer(read_only=True)


class HooksPlannedSerializer(serializers.Serializer):
    data = HookOutcomeSerializer(many=True, read_only=True)
    message = Text(read_only=True, help_text="What happened, in words.")


class SourceView(ApiView):
    field_names = SOURCE_FIELDS
    ordering = ("created_at", "id")

    def answer(self, source, code: int = status.HTTP_200_OK) -> Response:
        fresh = selectors.sources(self.viewer).get(pk=source.pk)
        return Response(one(SourceSerializer, fresh), status=code)


class SourceList(SourceView):
    @extend_schema(
        operation_id="sources_list",
        responses=SourceSerializer(many=True),
        description="The workspace's sources, oldest first.",
    )
    def get(self, request):
        return self.page_of(selectors.sources(self.viewer), SourceSerializer)

    @extend_schema(
        operation_id="sources_create",
        request=SourceWriteSerializer,
        responses={201: enveloped(SourceSerializer)},
        description="Give Scripe a text or a link to take ideas from. Recordings and "
        "documents (files) are uploaded on the Sources page in the browser, not through the "
        "API. Scripe reads it in the background: follow `status` (or the webhook "
        "source.ready); its topics and hooks come once it is ready.",
    )
    def post(self, request):
        self.viewer.require(Role.EDITOR, self.workspace.pk, gettext_noop("add sources"))
        data = _parsed(SourceWriteSerializer, request)
        project = (
            planning_selectors.plannable_projects(self.viewer)
            .filter(scripe_id=data["projectId"])
            .first()
        )
        if project is None:
            raise Refusal(fields={"project": "There is no project with this id in the workspace."})
        if data["url"] and data["text"]:
            raise Refusal(fields={"url": "Give a link or a text, not both."})
        if data["url"]:
            source = services.source_create_url(user=request.user, project=project, url=data["url"])
        else:
            source = services.source_create_text(
                user=request.user, project=project, text=data["text"], name=data["name"]
            )
        return self.answer(source, status.HTTP_201_CREATED)


class SourceDetail(SourceView):
    @extend_schema(operation_id="sources_show", responses=enveloped(SourceSerializer))
    def get(self, request, source_id):
        return self.answer(source_for(self.viewer, source_id))


class SourcePlan(SourceView):
    @extend_schema(
        operation_id="sources_plan_hooks",
        request=HooksPlanSerializer,
        responses=HooksPlannedSerializer,
        description="Plan a post from each hook at the project's next queue times; the "
        "post's generation is steered by the hook's source and topic. A hook planned before "
        "(by anyone, here or on the ideas board) is not planned again: its post is answered "
        "with planned false.",
    )
    def post(self, request, source_id):
        source = source_for(self.viewer, source_id, to=gettext_noop("plan posts from a source"))
        data = _parsed(HooksPlanSerializer, request)
        outcomes = services.hooks_plan(user=request.user, source=source, hook_ids=data["hookIds"])
        posts = {
            p.pk: p
            for p in selectors.posts(self.viewer).filter(pk__in=[o.slot.pk for o in outcomes])
        }
        made = sum(o.planned for o in outcomes)
        again = len(outcomes) - made
        message = f"{made} post{'s' if made != 1 else ''} planned at the next queue times."
        if again:
            message += f" {again} {'was' if again == 1 else 'were'} planned before."
        rows = [
            {"hookId": o.hook["id"], "planned": o.planned, "post": posts.get(o.slot.pk)}
            for o in outcomes
        ]
        answer = {"data": HookOutcomeSerializer(rows, many=True).data, "message": message}
        return Response(answer, status=status.HTTP_200_OK)
