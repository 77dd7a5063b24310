"""A project's posting queue: its queued posts in order, and "add to queue" / "add to top of
queue", which plan a post at the schedule time the queue chooses, through the queue page's
service (every slot rule applies; top of queue is a manager's, since it moves other people's
posts one time later)."""

from __future__ import annotations

from django.utils.translation import gettext_noop
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from calendar_app.access import project_for
from calendar_app.api import selectors
from calendar_app.api.envelopes import said, told
from calendar_app.api.fields import Text
from calendar_app.api.serializers import PostSerializer
from calendar_app.api.views.posts import POST_FIELDS, PostView, _parsed
from calendar_app.models import LANGUAGES, Role
from calendar_app.planning import queue


class QueueAddSerializer(serializers.Serializer):
    """A post for the queue: the post's fields without a time, which the queue chooses."""

    noteText = Text(allow_blank=True, required=False, default="", trim_whitespace=False)
    noteId = serializers.UUIDField(
        required=False, allow_null=True, help_text="Reuse a note (noteText empty)."
    )
    language = serializers.ChoiceField(choices=[code for code, _ in LANGUAGES], default="en")
    labelIds = serializers.ListField(child=serializers.UUIDField(), required=False, max_length=50)
    position = serializers.ChoiceField(
        choices=["end", "top"],
        default="end",
        help_text="end: the next free schedule time. top: the first one, the queued posts "
        "from there moving one time later (managers only).",
    )


class Queue(PostView):
    ordering = ("scheduled_for", "id")
    field_names = {**POST_FIELDS, "queue": "position"}

    @extend_schema(
        operation_id="queue_list",
        responses=PostSerializer(many=True),
        description="The project's queued posts still ahead, in queue order.",
    )
    def get(self, request, project_id):
        project = project_for(self.viewer, project_id)
        return self.page_of(selectors.queued(self.viewer, project), PostSerializer)

    @extend_schema(
        operation_id="queue_add",
        request=QueueAddSerializer,
        responses={201: said(PostSerializer)},
        description="Plan a post at the project's next free schedule time (or the first, "
        "with position top). The project needs a posting schedule (set on its queue page).",
    )
    def post(self, request, project_id):
        project = project_for(self.viewer, project_id)
        self.viewer.require(Role.EDITOR, project.workspace_id, gettext_noop("plan posts"))
        data = _parsed(QueueAddSerializer, request)
        fields = self.fields_of(data)
        for chosen_by_the_queue in ("project", "day", "clock"):
            fields.pop(chosen_by_the_queue, None)
        queued = queue.queue_add(
            user=request.user, project=project, top=data["position"] == "top", **fields
        )
        slot = queued.slot
        message = "Queued first." if data["position"] == "top" else "Queued."
        if queued.moved:
            posts = "queued post" if queued.moved == 1 else "queued posts"
            message += f" {queued.moved} {posts} moved one time later."
        fresh = selectors.post(self.viewer, slot.public_id)
        return Response(told(PostSerializer, fresh, message), status=status.HTTP_201_CREATED)
