"""The caller's notifications about the token's workspace, newest first (`?unread=true`: only
those not read), and marking one or all of them read. Marking read needs only the read
scope: it changes nothing anyone else sees, and a client that shows notifications (a
dashboard) is the one that knows they were seen."""

from __future__ import annotations

import datetime as dt

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.response import Response

from calendar_app.access import notification_for
from calendar_app.api import selectors
from calendar_app.api.base import ApiView
from calendar_app.api.envelopes import enveloped, one
from calendar_app.api.fields import Text
from calendar_app.models import NotificationKind
from calendar_app.notifications import services as notifications


class NotificationSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    kind = serializers.ChoiceField(choices=NotificationKind.choices, read_only=True)
    text = Text(read_only=True)
    detail = Text(read_only=True)
    postId = serializers.SerializerMethodField()
    createdAt = serializers.DateTimeField(
        source="created_at", read_only=True, default_timezone=dt.UTC
    )
    readAt = serializers.DateTimeField(
        source="read_at", read_only=True, allow_null=True, default_timezone=dt.UTC
    )

    @extend_schema_field(serializers.UUIDField(allow_null=True))
    def get_postId(self, notification):
        slot = notification.slot
        if slot is None or slot.deleted_at is not None:
            return None
        return str(slot.public_id)


class NotificationFilterSerializer(serializers.Serializer):
    unread = serializers.BooleanField(
        required=False, default=False, help_text="Only the ones not read yet."
    )


class ReadAllSerializer(serializers.Serializer):
    marked = serializers.IntegerField(read_only=True, help_text="How many were unread.")


class NotificationView(ApiView):
    write_scope = "read"


class NotificationList(NotificationView):
    ordering = ("-created_at", "-id")

    @extend_schema(
        operation_id="notifications_list",
        parameters=[NotificationFilterSerializer],
        responses=NotificationSerializer(many=True),
    )
    def get(self, request):
        # A plain dict: an empty value is a value (refused), not "not given" as in a form.
        filters = NotificationFilterSerializer(data=request.query_params.dict())
        filters.is_valid(raise_exception=True)
        rows = selectors.notifications(self.viewer)
        if filters.validated_data["unread"]:
            rows = rows.filter(read_at__isnull=True)
        return self.page_of(rows, NotificationSerializer)


class NotificationRead(NotificationView):
    @extend_schema(
        operation_id="notifications_read",
        request=None,
        responses=enveloped(NotificationSerializer),
        description="Mark it read (again: nothing changes).",
    )
    def post(self, request, notification_id):
        notification = notification_for(self.viewer, notification_id)
        notifications.notification_read(user=request.user, public_id=notification.public_id)
        notification.refresh_from_db(fields=["read_at"])
        return Response(one(NotificationSerializer, notification))


class NotificationsReadAll(NotificationView):
    @extend_schema(
        operation_id="notifications_read_all",
        request=None,
        responses=enveloped(ReadAllSerializer),
    )
    def post(self, request):
        marked = notifications.notifications_read_all(
            user=request.user, workspace_ids=self.viewer.workspace_ids
        )
        return Response(one(ReadAllSerializer, {"marked": marked}))
