"""The ideas board (#26) through the API: list (by state and project), add, show, change,
plan one as a post on a day and time or at the end of a queue, dismiss and restore (a
manager's); each through the ideas' services, with the board's rules and sentences."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.response import Response

from calendar_app.access import idea_for, project_for
from calendar_app.api import selectors
from calendar_app.api.base import ApiView
from calendar_app.api.envelopes import enveloped, one, said, told
from calendar_app.api.fields import Moment, Text
from calendar_app.api.serializers import (
    LabelSerializer,
    PostSerializer,
    ProjectRefSerializer,
    utc_time,
)
from calendar_app.api.views.posts import _parsed
from calendar_app.core.refusals import Refusal
from calendar_app.ideas import services
from calendar_app.models import LANGUAGES, IdeaState
from calendar_app.planning import selectors as planning_selectors

# The ideas services' field names, as the API calls them.
IDEA_FIELDS = {
    "text": "text",
    "link": "link",
    "project": "projectId",
    "labels": "labelIds",
    "language": "language",
    "date": "scheduledFor",
    "time": "scheduledFor",
    "day": "scheduledFor",
    "clock": "scheduledFor",
}


class IdeaSerializer(serializers.Serializer):
    """An idea on the board: a note for a post some day (text and/or a link), maybe a
        project and labels, its owner and state, and the posts planned from it. A suggestion of
        Scripe's (`scripeSuggestion`) carries Scripe's post id; a hook of a source put on the board
    carries the source's id and the hook's."""

    id = serializers.UUIDField(source="public_id", read_only=True)
    workspaceId = serializers.UUIDField(source="workspace.public_id", read_only=True)
    project = ProjectRefSerializer(read_only=True, allow_null=True)
    labels = LabelSerializer(many=True, read_only=True)
    owner = serializers.SerializerMethodField()
    title = Text(read_only=True)
    text = Text(read_only=True)
    link = Text(read_only=True)
    language = Text(read_only=True)
    state = serializers.ChoiceField(choices=IdeaState.choices, read_only=True)
    scripeSuggestion = serializers.BooleanField(source="is_suggestion", read_only=True)
    scripePostId = Text(source="scripe_post_id", read_only=True)
    postIds = serializers.SerializerMethodField()
    sourceId = serializers.SerializerMethodField()
    hookId = Text(
        source="hook_id",
        read_only=True,
        help_text="The source's hook it is (planned, its post is steered by the source).",
    )
    createdAt = utc_time(source="created_at")
    updatedAt = utc_time(source="updated_at")

    @extend_schema_field(Text(allow_null=True))
    def get_owner(self, idea) -> str | None:
        owner = idea.owner
        return (owner.get_full_name() or owner.get_username()) if owner else None

    @extend_schema_field(serializers.UUIDField(allow_null=True))
    def get_sourceId(self, idea) -> str | None:
        return str(idea.source.public_id) if idea.source_id else None

    @extend_schema_field(serializers.ListField(child=serializers.UUIDField()))
    def get_postIds(self, idea) -> list[str]:
        posts = getattr(idea, "posts", None)
        if posts is None:
            posts = idea.slots.alive().order_by("scheduled_for", "id")
        return [str(post.public_id) for post in posts]


class IdeaFilterSerializer(serializers.Serializer):
    state = serializers.ChoiceField(choices=IdeaState.values, required=False)
    projectId = Text(required=False, max_length=80)


class IdeaWriteSerializer(serializers.Serializer):
    """An idea: text or a link (or both); a project is needed only to plan it."""

    text = Text(allow_blank=True, required=False, default="", max_length=20000)
    link = Text(allow_blank=True, required=False, default="", max_length=2000)
    projectId = Text(
        required=False, allow_null=True, max_length=80, help_text="The project's Scripe id."
    )
    labelIds = serializers.ListField(child=serializers.UUIDField(), required=False, max_length=50)
    language = serializers.ChoiceField(choices=[code for code, _ in LANGUAGES], default="en")


class IdeaChangeSerializer(IdeaWriteSerializer):
    """Only the fields sent change; `labelIds` replaces the labels."""

    text = Text(allow_blank=True, required=False, max_length=20000)
    link = Text(allow_blank=True, required=False, max_length=2000)
    language = serializers.ChoiceField(choices=[code for code, _ in LANGUAGES], required=False)


class IdeaPlanSerializer(serializers.Serializer):
    scheduledFor = Moment(help_text="When to post; without an offset, UTC.")


class IdeaQueueSerializer(serializers.Serializer):
    projectId = Text(
        required=False,
        max_length=80,
        help_text="The queue to add it to (its project's Scripe id); the idea's own if not given.",
    )


class IdeaView(ApiView):
    field_names = IDEA_FIELDS
    ordering = ("created_at", "id")

    def answer(self, idea, code: int = status.HTTP_200_OK) -> Response:
        fresh = selectors.ideas(self.viewer).get(pk=idea.pk)
        return Response(one(IdeaSerializer, fresh), status=code)

    def fields_of(self, data: dict, idea=None) -> dict:
        """The service's fields from the API's, starting from the idea's own for a change."""
        problems: dict[str, str] = {}
        fields = {
            "text": data.get("text", idea.text if idea else ""),
            "link": data.get("link", idea.link if idea else ""),
            "language": data.get("language", idea.language if idea else "en"),
            "project": idea.project if idea else None,
            "labels": list(idea.labels.all()) if idea else [],
        }
        if data.get("projectId"):
            fields["project"] = (
                planning_selectors.visible_projects(self.viewer)
                .filter(scripe_id=data["projectId"])
                .first()
            )
            if fields["project"] is None:
                problems["project"] = "There is no project with this id in the workspace."
        elif "projectId" in data:
            fields["project"] = None
        if "labelIds" in data:
            fields["labels"], unknown = selectors.labels_named(self.viewer, data["labelIds"])
            if unknown:
                problems["labels"] = f"There is no label {', '.join(unknown)} in the workspace."
        if problems:
            raise Refusal(fields=problems)
        return fields


class IdeaList(IdeaView):
    @extend_schema(
        operation_id="ideas_list",
        parameters=[IdeaFilterSerializer],
        responses=IdeaSerializer(many=True),
        description="The board's ideas (Scripe's suggestions among them), oldest first.",
    )
    def get(self, request):
        filters = IdeaFilterSerializer(data=request.query_params.dict())
        filters.is_valid(raise_exception=True)
        data = filters.validated_data
        project = None
        if data.get("projectId"):
            project = (
                planning_selectors.visible_projects(self.viewer)
                .filter(scripe_id=data["projectId"])
                .first()
            )
            if project is None:
                raise Refusal(fields={"projectId": "There is no such project in the workspace."})
        ideas = selectors.ideas(self.viewer, state=data.get("state", ""), project=project)
        return self.page_of(ideas, IdeaSerializer)

    @extend_schema(
        operation_id="ideas_create",
        request=IdeaWriteSerializer,
        responses={201: enveloped(IdeaSerializer)},
    )
    def post(self, request):
        data = _parsed(IdeaWriteSerializer, request)
        idea = services.idea_create(
            viewer=self.viewer, workspace=self.workspace, **self.fields_of(data)
        )
        return self.answer(idea, status.HTTP_201_CREATED)


class IdeaDetail(IdeaView):
    @extend_schema(operation_id="ideas_show", responses=enveloped(IdeaSerializer))
    def get(self, request, idea_id):
        return self.answer(idea_for(self.viewer, idea_id))

    @extend_schema(
        operation_id="ideas_update",
        request=IdeaChangeSerializer,
        responses=enveloped(IdeaSerializer),
    )
    def patch(self, request, idea_id):
        idea = idea_for(self.viewer, idea_id)
        data = _parsed(IdeaChangeSerializer, request)
        services.idea_update(viewer=self.viewer, idea=idea, **self.fields_of(data, idea))
        return self.answer(idea)


class IdeaPlan(IdeaView):
    @extend_schema(
        operation_id="ideas_plan",
        request=IdeaPlanSerializer,
        responses={201: enveloped(PostSerializer)},
        description="Plan a post from the idea at a time, through the rules of a new post. "
        "The idea needs a project; one idea may feed several posts.",
    )
    def post(self, request, idea_id):
        idea = idea_for(self.viewer, idea_id)
        data = _parsed(IdeaPlanSerializer, request)
        local = data["scheduledFor"].astimezone(self.viewer.zone)
        slot = services.idea_plan(
            viewer=self.viewer,
            idea=idea,
            day=local.date(),
            clock=local.time().replace(tzinfo=None),
        )
        fresh = selectors.post(self.viewer, slot.public_id)
        return Response(one(PostSerializer, fresh), status=status.HTTP_201_CREATED)


class IdeaQueue(IdeaView):
    @extend_schema(
        operation_id="ideas_queue",
        request=IdeaQueueSerializer,
        responses={201: said(PostSerializer)},
        description="Plan a post from the idea at the next free schedule time of a queue.",
    )
    def post(self, request, idea_id):
        idea = idea_for(self.viewer, idea_id)
        data = _parsed(IdeaQueueSerializer, request)
        project = project_for(self.viewer, data["projectId"]) if data.get("projectId") else None
        queued = services.idea_queue(viewer=self.viewer, idea=idea, project=project)
        fresh = selectors.post(self.viewer, queued.slot.public_id)
        return Response(told(PostSerializer, fresh, "Queued."), status=status.HTTP_201_CREATED)


class IdeaDismiss(IdeaView):
    @extend_schema(
        operation_id="ideas_dismiss",
        request=None,
        responses=enveloped(IdeaSerializer),
        description="Hide the idea (or Scripe's suggestion) for the workspace: managers only.",
    )
    def post(self, request, idea_id):
        idea = idea_for(self.viewer, idea_id)
        services.idea_dismiss(viewer=self.viewer, idea=idea)
        return self.answer(idea)


class IdeaRestore(IdeaView):
    @extend_schema(
        operation_id="ideas_restore",
        request=None,
        responses=enveloped(IdeaSerializer),
        description="Bring a dismissed idea back: managers only.",
    )
    def post(self, request, idea_id):
        idea = idea_for(self.viewer, idea_id)
        services.idea_restore(viewer=self.viewer, idea=idea)
        return self.answer(idea)
