"""Posts (planned slots): the All posts list with its filters, plan, change, move, delete and
restore, Generate and Cancel; each through the service the pages call, with the same access
rules and sentences."""

from __future__ import annotations

from django.http import Http404
from django.utils.translation import gettext_noop
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response

from calendar_app.access import deleted_slot_for, slot_for
from calendar_app.api import selectors
from calendar_app.api.base import ApiView
from calendar_app.api.envelopes import enveloped, one
from calendar_app.api.serializers import (
    PostChangeSerializer,
    PostFilterSerializer,
    PostMoveSerializer,
    PostSerializer,
    PostWriteSerializer,
)
from calendar_app.core.refusals import Refusal
from calendar_app.models import Role, SlotStatus
from calendar_app.pipeline.generation import generation_cancel, generation_request
from calendar_app.planning import selectors as planning_selectors
from calendar_app.planning import services

# The services' field names, as the API calls them.
POST_FIELDS = {
    "project": "projectId",
    "note_text": "noteText",
    "existing_note": "noteId",
    "language": "language",
    "date": "scheduledFor",
    "time": "scheduledFor",
    "labels": "labelIds",
}


def _parsed(serializer_class, request, **kwargs) -> dict:
    serializer = serializer_class(data=request.data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class PostView(ApiView):
    field_names = POST_FIELDS

    def answer(self, slot, code: int = status.HTTP_200_OK) -> Response:
        """The post as it is now, read again the way the list reads it."""
        fresh = selectors.post(self.viewer, slot.public_id)
        return Response(one(PostSerializer, fresh), status=code)

    def fields_of(self, data: dict, slot=None) -> dict:
        """The service's fields from the API's, starting from the slot's own for a change."""
        viewer = self.viewer
        fields: dict = {}
        problems: dict[str, str] = {}
        if "projectId" in data:
            fields["project"] = (
                planning_selectors.plannable_projects(viewer)
                .filter(scripe_id=data["projectId"])
                .first()
            )
            if fields["project"] is None:
                problems["project"] = "There is no project with this id in the workspace."
        elif slot is not None:
            fields["project"] = slot.project
        if data.get("noteId"):
            fields["note"] = selectors.note_of(viewer, data["noteId"])
            if fields["note"] is None:
                problems["existing_note"] = "There is no note with this id in the workspace."
        else:
            fields["note"] = None
        if "noteText" in data:
            fields["note_text"] = data["noteText"]
        elif slot is not None and not data.get("noteId"):
            fields["note_text"] = slot.note.text
        else:
            fields["note_text"] = ""
        if "language" in data:
            fields["language"] = data["language"]
        elif slot is not None:
            fields["language"] = slot.note.language
        when = data.get("scheduledFor") or (slot.scheduled_for if slot is not None else None)
        local = when.astimezone(viewer.zone) if when else None
        fields["day"] = local.date() if local else None
        fields["clock"] = local.time().replace(tzinfo=None) if local else None
        fields["labels"] = None
        if "labelIds" in data:
            fields["labels"], unknown = selectors.labels_named(viewer, data["labelIds"])
            if unknown:
                problems["labels"] = f"There is no label {', '.join(unknown)} in the workspace."
        if problems:
            raise Refusal(fields=problems)
        return fields


class PostList(PostView):
    ordering = ("scheduled_for", "id")

    @extend_schema(
        operation_id="posts_list",
        parameters=[PostFilterSerializer],
        responses=PostSerializer(many=True),
    )
    def get(self, request):
        # A plain dict: an empty value is a value (refused), not "not given" as in a form.
        filters = PostFilterSerializer(data=request.query_params.dict())
        filters.is_valid(raise_exception=True)
        data = filters.validated_data
        project = label = None
        if data.get("projectId"):
            project = planning_selectors.visible_projects(self.viewer).filter(
                scripe_id=data["projectId"]
            )
            project = project.first()
            if project is None:
                raise Refusal(fields={"projectId": "There is no such project in the workspace."})
        if data.get("labelId"):
            found, _ = selectors.labels_named(self.viewer, [data["labelId"]])
            if not found:
                raise Refusal(fields={"labelId": "There is no such label in the workspace."})
            label = found[0]
        posts = selectors.posts(
            self.viewer,
            text=data.get("q", ""),
            project=project,
            status=data.get("status", ""),
            date_from=data.get("dateFrom"),
            date_to=data.get("dateTo"),
            label=label,
        )
        return self.page_of(posts, PostSerializer)

    @extend_schema(
        operation_id="posts_create",
        request=PostWriteSerializer,
        responses={201: enveloped(PostSerializer)},
    )
    def post(self, request):
        data = _parsed(PostWriteSerializer, request)
        slot = services.slot_create(
            user=request.user, zone=self.viewer.zone, **self.fields_of(data)
        )
        return self.answer(slot, status.HTTP_201_CREATED)


class PostDetail(PostView):
    @extend_schema(operation_id="posts_show", responses=enveloped(PostSerializer))
    def get(self, request, post_id):
        slot = selectors.post(self.viewer, post_id)
        if slot is None:
            raise Http404("No such post.")
        return Response(one(PostSerializer, slot))

    @extend_schema(
        operation_id="posts_update",
        request=PostChangeSerializer,
        responses=enveloped(PostSerializer),
    )
    def patch(self, request, post_id):
        slot = slot_for(request, post_id, to=gettext_noop("edit posts"))
        data = _parsed(PostChangeSerializer, request)
        slot.require_editable()
        services.slot_update(
            slot=slot, user=request.user, zone=self.viewer.zone, **self.fields_of(data, slot)
        )
        return self.answer(slot)

    @extend_schema(operation_id="posts_delete", responses={204: None})
    def delete(self, request, post_id):
        services.slot_delete(slot=slot_for(request, post_id, to=gettext_noop("delete posts")))
        return Response(status=status.HTTP_204_NO_CONTENT)


class PostMove(PostView):
    field_names = {**POST_FIELDS, "date": "date"}

    @extend_schema(
        operation_id="posts_move", request=PostMoveSerializer, responses=enveloped(PostSerializer)
    )
    def post(self, request, post_id):
        viewer = self.viewer
        slot = slot_for(request, post_id)
        refusal = services.slot_move_refusal(viewer=viewer, slot=slot)
        if refusal is not None:
            raise refusal
        if slot.status == SlotStatus.SCHEDULED:
            raise Refusal(
                "This post is scheduled in Scripe; reschedule it to give it another time.",
                status=409,
            )
        data = _parsed(PostMoveSerializer, request)
        if data.get("date"):
            services.slot_move(slot=slot, day=data["date"], zone=viewer.zone, user=request.user)
        else:
            local = data["scheduledFor"].astimezone(viewer.zone)
            clock = local.time().replace(tzinfo=None)
            services.slot_move(
                slot=slot, day=local.date(), clock=clock, zone=viewer.zone, user=request.user
            )
        return self.answer(slot)


class PostRestore(PostView):
    @extend_schema(operation_id="posts_restore", request=None, responses=enveloped(PostSerializer))
    def post(self, request, post_id):
        slot = deleted_slot_for(self.viewer, post_id)
        if slot is None:
            raise Http404("No deleted post with this id.")
        self.viewer.require(Role.EDITOR, slot.workspace_id, gettext_noop("restore posts"))
        services.slot_restore(slot=slot)
        return self.answer(slot)


class PostGenerate(PostView):
    @extend_schema(
        operation_id="posts_generate",
        request=None,
        responses={202: enveloped(PostSerializer)},
        description="Have Scripe write the post (or write it again after a failure, a "
        "cancel or a removal in Scripe). It is written in the background: follow `status` "
        "and `generation`.",
    )
    def post(self, request, post_id):
        slot = slot_for(request, post_id, to=gettext_noop("generate posts"))
        generation_request(slot=slot, user=request.user)
        return self.answer(slot, status.HTTP_202_ACCEPTED)


class PostCancel(PostView):
    @extend_schema(
        operation_id="posts_cancel",
        request=None,
        responses=enveloped(PostSerializer),
        description="Stop a generation Scripe has not started yet.",
    )
    def post(self, request, post_id):
        slot = slot_for(request, post_id, to=gettext_noop("cancel generations"))
        generation_cancel(slot=slot)
        return self.answer(slot)
