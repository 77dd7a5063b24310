"""A post's activity trail: every status change, edit and comment, with who (and the way they
came: "via API (<token name>)") and when, oldest first, as the post page shows it."""

from __future__ import annotations

import datetime as dt

from drf_spectacular.utils import extend_schema
from rest_framework import serializers

from calendar_app.access import slot_for
from calendar_app.api import selectors
from calendar_app.api.base import ApiView
from calendar_app.api.fields import Text
from calendar_app.models import SlotEvent, SlotStatus


class EventSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=SlotEvent.Kind.choices, read_only=True)
    status = serializers.ChoiceField(
        choices=[("", ""), *SlotStatus.choices],
        read_only=True,
        help_text="The status reached (a status change); empty otherwise.",
    )
    text = Text(source="sentence", read_only=True)
    earlierText = Text(
        source="earlier_text", read_only=True, help_text="An edit in Scripe: the text it replaced."
    )
    who = Text(read_only=True, help_text='"Max", "Erin via API (CRM)", "Scripe".')
    createdAt = serializers.DateTimeField(
        source="created_at", read_only=True, default_timezone=dt.UTC
    )


class Trail(ApiView):
    ordering = ("created_at", "id")

    @extend_schema(operation_id="posts_trail", responses=EventSerializer(many=True))
    def get(self, request, post_id):
        slot = slot_for(request, post_id)
        return self.page_of(selectors.trail(slot), EventSerializer)
