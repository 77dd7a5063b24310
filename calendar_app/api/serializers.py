"""The API's representations. `PostSerializer` is THE post: the API answers it, and outgoing
webhooks send it; import it from here. Field names are camelCase like Scripe's; times are UTC
ISO 8601 (`2026-06-01T09:00:00Z`)."""

from __future__ import annotations

import datetime as dt

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from calendar_app.api.fields import Day, Moment, Text
from calendar_app.models import (
    LABEL_COLOURS,
    LANGUAGES,
    SlotStatus,
    SourceKind,
    SourceStatus,
    WebhookEvent,
)
from calendar_app.planning.selectors import STATUS_FILTERS


def utc_time(**kwargs) -> serializers.DateTimeField:
    """A time as UTC, whatever zone is active (the pages activate the person's)."""
    return serializers.DateTimeField(default_timezone=dt.UTC, read_only=True, **kwargs)


class WorkspaceSerializer(serializers.Serializer):
    """A workspace of the caller's, with their role in it."""

    id = serializers.UUIDField(source="workspace.public_id", read_only=True)
    name = Text(source="workspace.name", read_only=True)
    timeZone = Text(source="workspace.time_zone", read_only=True)
    reviewRequired = serializers.BooleanField(source="workspace.review_required", read_only=True)
    noSelfApproval = serializers.BooleanField(source="workspace.no_self_approval", read_only=True)
    role = Text(read_only=True, help_text="editor, manager or admin.")


class ProjectSerializer(serializers.Serializer):
    """A Scripe project (a LinkedIn profile or page) of the workspace, by its Scripe id."""

    id = Text(source="scripe_id", read_only=True)
    name = Text(read_only=True)
    type = Text(read_only=True)
    status = Text(read_only=True)
    active = serializers.BooleanField(source="is_active", read_only=True)
    inactiveReason = Text(source="inactive_reason", read_only=True)
    linkedinUrl = Text(source="linkedin_url", read_only=True)
    colour = serializers.IntegerField(read_only=True)


class ProjectRefSerializer(serializers.Serializer):
    id = Text(source="scripe_id", read_only=True)
    name = Text(read_only=True)


class LabelSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    name = Text(read_only=True)
    colour = serializers.IntegerField(read_only=True)


class LabelWriteSerializer(serializers.Serializer):
    name = Text(allow_blank=True, max_length=200)
    colour = serializers.ChoiceField(choices=[code for code, _ in LABEL_COLOURS])


class LabelChangeSerializer(LabelWriteSerializer):
    name = Text(allow_blank=True, max_length=200, required=False)
    colour = serializers.ChoiceField(choices=[code for code, _ in LABEL_COLOURS], required=False)


class NoteSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    text = Text(read_only=True)
    language = Text(read_only=True)


class GenerationSerializer(serializers.Serializer):
    """The post's current attempt at having Scripe write it."""

    attempt = serializers.IntegerField(read_only=True)
    scripeJobId = Text(source="scripe_job_id", read_only=True)
    scripeStatus = Text(source="scripe_status", read_only=True)
    progress = serializers.FloatField(read_only=True, allow_null=True)
    progressMessage = Text(source="progress_message", read_only=True)
    errorCode = Text(source="error_code", read_only=True)
    errorMessage = Text(source="error_shown", read_only=True)
    finished = serializers.BooleanField(read_only=True)


class DraftSerializer(serializers.Serializer):
    """What Scripe wrote, as it stands here (edited by a manager, or in Scripe)."""

    scripePostId = Text(source="post_id", read_only=True)
    title = Text(source="post_title", read_only=True)
    content = Text(source="post_content", read_only=True)


class PostSerializer(serializers.Serializer):
    """A planned LinkedIn post (a slot): its project, note, time, status and labels, its
    current generation and the draft Scripe wrote. Read a queryset from
    `calendar_app.api.selectors.posts` (one query for the posts, one for their labels)."""

    id = serializers.UUIDField(source="public_id", read_only=True)
    workspaceId = serializers.UUIDField(source="workspace.public_id", read_only=True)
    project = ProjectRefSerializer(read_only=True)
    note = NoteSerializer(read_only=True)
    scheduledFor = utc_time(source="scheduled_for")
    status = serializers.ChoiceField(choices=SlotStatus.choices, read_only=True)
    statusLabel = Text(source="get_status_display", read_only=True)
    statusNote = serializers.SerializerMethodField()
    labels = LabelSerializer(many=True, read_only=True)
    generation = serializers.SerializerMethodField()
    draft = serializers.SerializerMethodField()
    publishedAt = utc_time(source="published_at", allow_null=True)
    createdAt = utc_time(source="created_at")
    updatedAt = utc_time(source="updated_at")

    @extend_schema_field(Text())
    def get_statusNote(self, slot) -> str:
        return slot.status_note_shown if slot.shows_status_note else ""

    @extend_schema_field(GenerationSerializer(allow_null=True))
    def get_generation(self, slot):
        job = slot.current_job
        return GenerationSerializer(job).data if job is not None else None

    @extend_schema_field(DraftSerializer(allow_null=True))
    def get_draft(self, slot):
        job = slot.current_job
        if job is None or not job.post_content:
            return None
        return DraftSerializer(job).data


class PostFilterSerializer(serializers.Serializer):
    """The All posts page's filters, by the API's names."""

    status = serializers.ChoiceField(
        choices=[code for code, _ in STATUS_FILTERS],
        required=False,
        help_text="A status, or at_risk: likely to miss its time.",
    )
    projectId = Text(required=False, max_length=80)
    labelId = serializers.UUIDField(required=False)
    dateFrom = Day(required=False, help_text="A local day (YYYY-MM-DD).")
    dateTo = Day(required=False, help_text="A local day, inclusive.")
    q = Text(required=False, max_length=200, help_text="Words in the note.")

    def validate(self, data: dict) -> dict:
        if data.get("dateFrom") and data.get("dateTo") and data["dateFrom"] > data["dateTo"]:
            raise serializers.ValidationError({"dateTo": "The end date is before the start date."})
        return data


class PostWriteSerializer(serializers.Serializer):
    """Plan a post. The rules (an active project, a note within Scripe's limit, a time far
    enough ahead on the quarter hour, labels of the workspace) are the pages'; their
    sentences come back in the error envelope's `fields`."""

    projectId = Text(max_length=80, help_text="The project's Scripe id.")
    noteText = Text(allow_blank=True, required=False, default="", trim_whitespace=False)
    noteId = serializers.UUIDField(
        required=False, allow_null=True, help_text="Reuse a note (noteText empty)."
    )
    language = serializers.ChoiceField(choices=[code for code, _ in LANGUAGES], default="en")
    scheduledFor = Moment(help_text="When to post; without an offset, UTC.")
    labelIds = serializers.ListField(child=serializers.UUIDField(), required=False, max_length=50)


class PostChangeSerializer(PostWriteSerializer):
    """Change a planned post (while it is a draft, failed, cancelled or removed): only the
    fields sent change; `labelIds` replaces the labels."""

    projectId = Text(max_length=80, required=False)
    noteText = Text(allow_blank=True, required=False, trim_whitespace=False)
    language = serializers.ChoiceField(choices=[code for code, _ in LANGUAGES], required=False)
    scheduledFor = Moment(required=False)


class PostMoveSerializer(serializers.Serializer):
    """Move to another day keeping the local time (`date`), or to a time (`scheduledFor`)."""

    date = Day(required=False, help_text="A local day; the time stays.")
    scheduledFor = Moment(required=False)

    def validate(self, data: dict) -> dict:
        if bool(data.get("date")) == bool(data.get("scheduledFor")):
            raise serializers.ValidationError(
                {"date": "Send either date (keeps the time of day) or scheduledFor."}
            )
        return data


class WebhookEndpointSerializer(serializers.Serializer):
    """An outgoing webhook endpoint of the workspace (its secret is never read back)."""

    id = serializers.UUIDField(source="public_id", read_only=True)
    url = Text(read_only=True)
    description = Text(read_only=True)
    events = serializers.ListField(child=Text(), read_only=True)
    active = serializers.BooleanField(source="is_active", read_only=True)
    disabledReason = Text(source="disabled_reason", read_only=True)
    previousSecretUntil = utc_time(source="previous_secret_until", allow_null=True)
    createdAt = utc_time(source="created_at")


class WebhookEndpointWithSecretSerializer(WebhookEndpointSerializer):
    """An endpoint as made or rotated: with its new secret, this once."""

    secret = serializers.SerializerMethodField()

    @extend_schema_field(Text())
    def get_secret(self, endpoint) -> str:
        return self.context["secret"]


class WebhookEndpointWriteSerializer(serializers.Serializer):
    url = Text(allow_blank=True, max_length=500)
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=WebhookEvent.values), allow_empty=True
    )
    description = Text(allow_blank=True, max_length=200, required=False)


class WebhookEndpointChangeSerializer(WebhookEndpointWriteSerializer):
    url = Text(allow_blank=True, max_length=500, required=False)
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=WebhookEvent.values),
        allow_empty=True,
        required=False,
    )
    active = serializers.BooleanField(required=False)


class HookSerializer(serializers.Serializer):
    """A hook Scripe found in a source: a post's opening line, and the post planned from it
    here (by the queue or from the ideas board), if one was."""

    id = serializers.CharField(read_only=True)
    content = serializers.CharField(read_only=True)
    postType = serializers.CharField(read_only=True, allow_null=True, required=False)
    postId = serializers.UUIDField(
        read_only=True, allow_null=True, help_text="The post planned from it, or null."
    )


class TopicSerializer(serializers.Serializer):
    id = serializers.CharField(read_only=True)
    title = serializers.CharField(read_only=True)
    summary = serializers.CharField(read_only=True)
    keyTakeaways = serializers.ListField(child=serializers.CharField(), read_only=True)
    hooks = HookSerializer(many=True, read_only=True)


class SourceSerializer(serializers.Serializer):
    """A source (a recording, a document, a text or a link) and what Scripe made of it: once
    `status` is ready, its text preview, duration, and topics with their hooks. The outgoing
    webhook source.ready sends this too."""

    id = serializers.UUIDField(source="public_id", read_only=True)
    workspaceId = serializers.UUIDField(source="workspace.public_id", read_only=True)
    project = ProjectRefSerializer(read_only=True)
    kind = serializers.ChoiceField(choices=SourceKind.choices, read_only=True)
    name = serializers.CharField(read_only=True)
    url = serializers.CharField(read_only=True)
    contentType = serializers.CharField(source="content_type", read_only=True)
    sizeBytes = serializers.IntegerField(source="size_bytes", read_only=True)
    status = serializers.ChoiceField(choices=SourceStatus.choices, read_only=True)
    statusLabel = serializers.CharField(source="get_status_display", read_only=True)
    progress = serializers.FloatField(read_only=True, allow_null=True)
    progressMessage = serializers.CharField(source="progress_message", read_only=True)
    errorCode = serializers.CharField(source="error_code", read_only=True)
    errorMessage = serializers.CharField(source="error_shown", read_only=True)
    scripeSourceId = serializers.CharField(source="scripe_source_id", read_only=True)
    textPreview = serializers.CharField(source="text_preview", read_only=True)
    textPreviewTruncated = serializers.BooleanField(source="text_preview_truncated", read_only=True)
    durationSeconds = serializers.IntegerField(
        source="duration_seconds", read_only=True, allow_null=True
    )
    topics = serializers.SerializerMethodField()
    createdAt = utc_time(source="created_at")
    updatedAt = utc_time(source="updated_at")

    @extend_schema_field(TopicSerializer(many=True))
    def get_topics(self, source) -> list[dict]:
        # The source's planned hooks (hook id -> post id): given, or prefetched with the
        # posts (`calendar_app.api.selectors.sources`).
        plans = self.context.get("plans")
        if plans is None:
            plans = {plan.hook_id: plan.slot.public_id for plan in source.hook_plans.all()}
        topics = [
            {
                "id": str(topic.get("id") or ""),
                "title": topic.get("title") or "",
                "summary": topic.get("summary") or "",
                "keyTakeaways": [str(t) for t in topic.get("keyTakeaways") or []],
                "hooks": [
                    {
                        "id": hook["id"],
                        "content": hook.get("content") or "",
                        "postType": hook.get("postType"),
                        "postId": plans.get(hook["id"]),
                    }
                    for hook in topic.get("hooks", [])
                ],
            }
            for topic in source.topics or []
        ]
        return TopicSerializer(topics, many=True).data
