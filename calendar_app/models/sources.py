"""Sources: recordings, documents, texts and links handed to Scripe, and the posts planned
from their hooks."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from calendar_app.models.slots import IllegalTransition, PlannedSlot
from calendar_app.models.workspaces import Project, Workspace
from scripe_integration.sentences import shown


class SourceKind(models.TextChoices):
    FILE = "file", _("File")
    TEXT = "text", _("Text")
    URL = "url", _("Link")


class SourceStatus(models.TextChoices):
    RECEIVED = "received", _("Waiting to be sent")
    UPLOADING = "uploading", _("Uploading to Scripe")
    INGESTING = "ingesting", _("Scripe is transcribing")
    READY = "ready", _("Ready")
    FAILED = "failed", _("Failed")


IN_FLIGHT_SOURCE_STATUSES = (
    SourceStatus.RECEIVED,
    SourceStatus.UPLOADING,
    SourceStatus.INGESTING,
)


class Source(models.Model):
    """One piece of raw material given to Scripe, from the editor's upload (or text, or link)
    to Scripe's transcript, topics and hooks.

    The file's own bytes stay in `local_path` only until Scripe has them; then the app's copy
    is deleted (`local_deleted_at`). The steps to Scripe are paced like a generation's (the
    same dispatcher, leases and backoff: the fields below `finished` mirror GenerationJob's),
    and the source's Idempotency-Key is derived from its own public id, so a retried step
    never makes a second source in Scripe."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    workspace = models.ForeignKey(Workspace, models.CASCADE, related_name="sources")
    project = models.ForeignKey(Project, models.CASCADE, related_name="sources")
    # The post it was added from, when it was (the post page links here and back).
    slot = models.ForeignKey(
        PlannedSlot, models.SET_NULL, null=True, blank=True, related_name="sources"
    )
    kind = models.CharField(max_length=8, choices=SourceKind.choices)
    name = models.CharField(max_length=255)
    url = models.URLField(max_length=2000, blank=True)
    content_type = models.CharField(max_length=120, blank=True)
    size_bytes = models.BigIntegerField(default=0)
    status = models.CharField(
        max_length=16, choices=SourceStatus.choices, default=SourceStatus.RECEIVED
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # Stamped on every change, for the live card.
    updated_at = models.DateTimeField(default=timezone.now, db_index=True)

    # The app's copy of the file (or the text to send), until Scripe has it.
    local_path = models.CharField(max_length=500, blank=True)
    local_deleted_at = models.DateTimeField(null=True, blank=True)

    # Scripe's side.
    upload_round = models.PositiveSmallIntegerField(default=0)
    upload_id = models.CharField(max_length=200, blank=True)
    upload_url = models.TextField(blank=True)
    upload_expires_at = models.DateTimeField(null=True, blank=True)
    uploaded_bytes = models.BigIntegerField(default=0)
    scripe_job_id = models.CharField(max_length=80, blank=True, db_index=True)
    scripe_status = models.CharField(max_length=24, blank=True)
    scripe_source_id = models.CharField(max_length=80, blank=True)
    progress = models.FloatField(null=True, blank=True)
    progress_message = models.CharField(max_length=200, blank=True)
    estimated_completion_ms = models.PositiveIntegerField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    error_code = models.CharField(max_length=60, blank=True)
    error_message = models.CharField(max_length=500, blank=True)
    # Its values, apart: each reader has it in their language (scripe_integration/sentences.py).
    error_params = models.JSONField(null=True, blank=True, editable=False)

    # What Scripe made of it.
    text_preview = models.TextField(blank=True)
    text_preview_truncated = models.BooleanField(default=False)
    duration_seconds = models.PositiveIntegerField(null=True, blank=True)
    topics = models.JSONField(default=list, blank=True)

    # Pacing, as GenerationJob's: the task holding the lease is the only one acting on it.
    finished = models.BooleanField(default=False, db_index=True)
    next_poll_at = models.DateTimeField(null=True, blank=True, db_index=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    error_streak = models.PositiveIntegerField(default=0)
    polls = models.PositiveIntegerField(default=0)
    scripe_calls = models.PositiveIntegerField(default=0)
    retry_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["workspace", "-created_at"], name="source_recent")]

    def __str__(self) -> str:
        return f"Source {self.public_id} ({self.status})"

    @property
    def error_shown(self) -> str:
        """Why it failed, in the reader's language."""
        return shown(self.error_message, self.error_params)

    @property
    def idempotency_key(self) -> str:
        """The `POST /v1/sources` key: the source's own id and its upload round, so every
        retry of one round replays the first answer. A new round (a fresh upload after the
        first expired unused) sends another body, so it needs a key of its own."""
        return f"src-{self.public_id.hex}-{self.upload_round}"

    @property
    def is_in_flight(self) -> bool:
        return self.status in IN_FLIGHT_SOURCE_STATUSES

    @property
    def progress_percent(self) -> int:
        return round((self.progress or 0) * 100)

    @property
    def upload_percent(self) -> int:
        return round(100 * self.uploaded_bytes / self.size_bytes) if self.size_bytes else 0

    @property
    def duration_text(self) -> str:
        if self.duration_seconds is None:
            return ""
        minutes, seconds = divmod(self.duration_seconds, 60)
        hours, minutes = divmod(minutes, 60)
        return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"

    @property
    def hooks(self) -> list[dict]:
        return [hook for topic in self.topics for hook in topic.get("hooks", [])]

    def hook_with_topic(self, hook_id: str) -> dict | None:
        """`{"hook": …, "topic": …}` for one of the source's hooks, else None."""
        for topic in self.topics:
            for hook in topic.get("hooks", []):
                if hook.get("id") == hook_id:
                    return {"hook": hook, "topic": topic}
        return None

    def steering_for(self, topic: dict) -> str:
        """What a generation request adds to a hook of this source: the source and the topic
        it came from (a HookPlan's steering)."""
        what = {
            SourceKind.FILE: "the file",
            SourceKind.TEXT: "the text",
            SourceKind.URL: "the page",
        }
        lines = [
            f"Source: {what.get(self.kind, 'the source')} “{self.name}”"
            + (f" (Scripe source {self.scripe_source_id})" if self.scripe_source_id else "")
            + "."
        ]
        if topic.get("title"):
            summary = f": {topic['summary']}" if topic.get("summary") else ""
            lines.append(f"Topic: {topic['title']}{summary}")
        takeaways = [str(t) for t in topic.get("keyTakeaways") or []][:5]
        if takeaways:
            lines.append("Key takeaways: " + " ".join(takeaways))
        return "\n".join(lines)

    def move(self, expected: str | tuple[str, ...], to: str, **fields) -> None:
        """A status change, written only if the status is still one of `expected` (so of
        two racing writers one wins); raises IllegalTransition for the loser."""
        expected = (expected,) if isinstance(expected, str) else expected
        now = timezone.now()
        changed = Source.objects.filter(pk=self.pk, status__in=expected).update(
            status=to, updated_at=now, **fields
        )
        if not changed:
            raise IllegalTransition(f"The source is no longer {' or '.join(expected)}.")
        self.status, self.updated_at = to, now
        for name, value in fields.items():
            setattr(self, name, value)


class HookPlan(models.Model):
    """A hook of a source that became a planned post: one per source and hook, so choosing
    the same hooks again plans nothing twice. `steering` is what the generation request adds
    to the note: where the hook comes from."""

    source = models.ForeignKey(Source, models.CASCADE, related_name="hook_plans")
    hook_id = models.CharField(max_length=80)
    slot = models.OneToOneField(PlannedSlot, models.CASCADE, related_name="hook_plan")
    steering = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "hook_id"], name="one_post_per_source_hook")
        ]

    def __str__(self) -> str:
        return f"Hook {self.hook_id} of source {self.source_id}"
