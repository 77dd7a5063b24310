"""Recurring series: list, plan one (its first post at `scheduledFor`, then by its rule in
the workspace's local time), and show one with its occurrences; through the series service
the new-post form's "Plan series" calls, with its rules and sentences."""

from __future__ import annotations

import datetime as dt

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.response import Response

from calendar_app.access import series_for
from calendar_app.api import selectors
from calendar_app.api.envelopes import enveloped, one
from calendar_app.api.fields import Day, Text
from calendar_app.api.serializers import (
    LabelSerializer,
    NoteSerializer,
    PostWriteSerializer,
    ProjectRefSerializer,
)
from calendar_app.api.views.posts import POST_FIELDS, PostView
from calendar_app.models import Series
from calendar_app.planning import selectors as planning_selectors
from calendar_app.planning import series as series_rules

# The series service's field names, as the API calls them.
SERIES_FIELDS = {
    **POST_FIELDS,
    "repeat": "frequency",
    "interval": "interval",
    "weekdays": "weekdays",
    "monthly_by": "monthlyBy",
    "month_day": "monthDay",
    "week_of_month": "weekOfMonth",
    "month_weekday": "monthWeekday",
    "until": "until",
    "count": "count",
}


class SeriesSerializer(serializers.Serializer):
    """A recurring post: its rule, computed in the workspace's zone from `startsOn` at
    `time` (09:00 stays 09:00 across DST), and what each occurrence is planned with."""

    id = serializers.UUIDField(source="public_id", read_only=True)
    project = ProjectRefSerializer(read_only=True)
    note = NoteSerializer(read_only=True)
    labels = LabelSerializer(many=True, read_only=True)
    description = serializers.SerializerMethodField()
    frequency = serializers.ChoiceField(choices=Series.Frequency.values, read_only=True)
    interval = serializers.IntegerField(read_only=True)
    weekdays = serializers.SerializerMethodField()
    monthlyBy = Text(source="monthly_by", read_only=True)
    monthDay = serializers.IntegerField(source="month_day", read_only=True, allow_null=True)
    weekOfMonth = serializers.IntegerField(source="week_of_month", read_only=True, allow_null=True)
    monthWeekday = serializers.IntegerField(source="month_weekday", read_only=True, allow_null=True)
    until = serializers.DateField(read_only=True, allow_null=True)
    count = serializers.IntegerField(read_only=True, allow_null=True)
    startsOn = serializers.DateField(source="starts_on", read_only=True)
    time = serializers.SerializerMethodField()
    timeZone = Text(source="workspace.time_zone", read_only=True)
    ended = serializers.SerializerMethodField()
    createdAt = serializers.DateTimeField(
        source="created_at", read_only=True, default_timezone=dt.UTC
    )

    @extend_schema_field(Text(help_text='"every 2 weeks on Tue, Thu"'))
    def get_description(self, series) -> str:
        return series_rules.Rule.of(series).describe()

    @extend_schema_field(serializers.ListField(child=serializers.IntegerField()))
    def get_weekdays(self, series) -> list[int]:
        return list(series_rules.Rule.of(series).weekdays)

    @extend_schema_field(
        {
            "type": "string",
            "pattern": "^[0-2][0-9]:[0-5][0-9]$",
            "description": "The local time of day (HH:MM) in timeZone.",
        }
    )
    def get_time(self, series) -> str:
        return f"{series.clock:%H:%M}"

    @extend_schema_field(serializers.BooleanField())
    def get_ended(self, series) -> bool:
        return series.ended_at is not None


class OccurrenceSerializer(serializers.Serializer):
    index = serializers.IntegerField(read_only=True, help_text="Its number in the series.")
    occursOn = serializers.DateField(source="occurs_on", read_only=True)
    postId = serializers.UUIDField(source="slot.public_id", read_only=True, allow_null=True)
    skipped = Text(
        read_only=True, help_text="Why no post was planned for this date (empty if one was)."
    )


class SeriesDetailSerializer(SeriesSerializer):
    occurrences = serializers.SerializerMethodField()

    @extend_schema_field(OccurrenceSerializer(many=True))
    def get_occurrences(self, series):
        return OccurrenceSerializer(self.context["occurrences"], many=True).data


class SeriesWriteSerializer(PostWriteSerializer):
    """Plan a series: the first post's fields (its `scheduledFor` is the first possible
    occurrence) and the rule."""

    frequency = serializers.ChoiceField(choices=Series.Frequency.values)
    interval = serializers.IntegerField(default=1, min_value=1, max_value=52)
    weekdays = serializers.ListField(
        child=serializers.IntegerField(min_value=0, max_value=6),
        required=False,
        max_length=7,
        help_text="Weekly: weekdays, Monday 0.",
    )
    monthlyBy = serializers.ChoiceField(
        choices=Series.MonthlyBy.values, required=False, help_text="Monthly: day or weekday."
    )
    monthDay = serializers.IntegerField(required=False, min_value=1, max_value=31)
    weekOfMonth = serializers.ChoiceField(
        choices=list(series_rules.ORDINALS), required=False, help_text="1-4, or -1 for the last."
    )
    monthWeekday = serializers.IntegerField(required=False, min_value=0, max_value=6)
    until = Day(required=False, help_text="The last local day it may fall on.")
    count = serializers.IntegerField(required=False, min_value=1, max_value=series_rules.COUNT_MAX)

    def rule(self) -> series_rules.Rule:
        data = self.validated_data
        monthly_by = data.get("monthlyBy", "")
        return series_rules.Rule(
            frequency=data["frequency"],
            interval=data["interval"],
            weekdays=tuple(sorted(set(data.get("weekdays") or ()))),
            monthly_by=monthly_by,
            month_day=data.get("monthDay") if monthly_by == "day" else None,
            week_of_month=data.get("weekOfMonth") if monthly_by == "weekday" else None,
            month_weekday=data.get("monthWeekday") if monthly_by == "weekday" else None,
            until=data.get("until"),
            count=data.get("count"),
        )


class SeriesView(PostView):
    field_names = SERIES_FIELDS

    def answer_series(self, series, code=status.HTTP_200_OK) -> Response:
        """The series with its occurrences, read again as the list reads it."""
        series = selectors.series(self.viewer).get(pk=series.pk)
        occurrences = planning_selectors.series_occurrences(series)
        return Response(one(SeriesDetailSerializer, series, occurrences=occurrences), status=code)


class SeriesList(SeriesView):
    ordering = ("created_at", "id")

    @extend_schema(operation_id="series_list", responses=SeriesSerializer(many=True))
    def get(self, request):
        return self.page_of(selectors.series(self.viewer), SeriesSerializer)

    @extend_schema(
        operation_id="series_create",
        request=SeriesWriteSerializer,
        responses={201: enveloped(SeriesDetailSerializer)},
        description="Plan a recurring post. Its posts are planned 8 weeks ahead, and further "
        "as time passes; a date the rules refuse (a time the clocks skip) is skipped and "
        "said so in its occurrence.",
    )
    def post(self, request):
        body = SeriesWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        made = series_rules.series_create(
            user=request.user,
            zone=self.viewer.zone,
            rule=body.rule(),
            **self.fields_of(body.validated_data),
        )
        return self.answer_series(made, status.HTTP_201_CREATED)


class SeriesDetail(SeriesView):
    @extend_schema(operation_id="series_show", responses=enveloped(SeriesDetailSerializer))
    def get(self, request, series_id):
        return self.answer_series(series_for(self.viewer, series_id))
