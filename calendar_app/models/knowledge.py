"""The knowledge base: documents (a text, a web page, a YouTube video, a file) a manager gave
Scripe about a project's, or the whole workspace's, voice and facts; one row per document,
from our request to Scripe's `kb_` id (or its reason for failing)."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from calendar_app.models.workspaces import Project, Workspace
from scripe_integration.sentences import shown


class KnowledgeKind(models.TextChoices):
    TEXT = "text", _("Text")
    URL = "url", _("Web page")
    YOUTUBE = "youtube", _("YouTube video")
    FILE = "file", _("File")


class KnowledgeState(models.TextChoices):
    INDEXING = "indexing", _("Indexing")
    INDEXED = "indexed", _("Indexed")
    FAILED = "failed", _("Failed")


class KnowledgeDocument(models.Model):
    """One document added to a knowledge base, and the Scripe ingest job that indexes it.

    Like a generation attempt, the idempotency key is made with the row, before anything is
    sent, so a retry after a timeout or a crash replays the same Scripe job; the dispatcher
    hands the row to a task when its next step is due (`next_poll_at`), and a task acts on
    it only while it holds its lease. `state` leaves `indexing` once, by a conditional UPDATE
    (`finish`), so the poll and the `knowledge.indexed` webhook never both decide."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    workspace = models.ForeignKey(Workspace, models.CASCADE, related_name="knowledge_documents")
    # None: the whole workspace's knowledge, which Scripe uses for every project.
    project = models.ForeignKey(
        Project, models.CASCADE, null=True, blank=True, related_name="knowledge_documents"
    )
    kind = models.CharField(max_length=16, choices=KnowledgeKind.choices)
    name = models.CharField(max_length=200)
    text = models.TextField(blank=True)
    url = models.URLField(max_length=2048, blank=True)
    # A file: its type and size, and the app's copy until Scripe has it (then deleted, and
    # `local_deleted_at` says when); `upload_id` is Scripe's handle for the uploaded bytes.
    content_type = models.CharField(max_length=120, blank=True)
    size_bytes = models.BigIntegerField(null=True, blank=True)
    local_path = models.CharField(max_length=500, blank=True)
    local_deleted_at = models.DateTimeField(null=True, blank=True)
    upload_id = models.CharField(max_length=120, blank=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    # Bumped by every write, so an open page asks only for what changed.
    updated_at = models.DateTimeField(default=timezone.now, db_index=True)
    state = models.CharField(
        max_length=16, choices=KnowledgeState.choices, default=KnowledgeState.INDEXING
    )
    # What Scripe charges for this type (1-3 cents), counted once Scripe took the job.
    cost_cents = models.PositiveSmallIntegerField(default=0)
    idempotency_key = models.CharField(max_length=64, unique=True)

    # What Scripe said about the ingest job.
    scripe_job_id = models.CharField(max_length=80, blank=True, db_index=True)
    scripe_status = models.CharField(max_length=24, blank=True)
    progress = models.FloatField(null=True, blank=True)
    progress_message = models.CharField(max_length=200, blank=True)
    estimated_completion_ms = models.PositiveIntegerField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    error_code = models.CharField(max_length=60, blank=True)
    error_message = models.CharField(max_length=500, blank=True)
    # Its values, apart: each reader has it in their language (scripe_integration/sentences.py).
    error_params = models.JSONField(null=True, blank=True, editable=False)
    document_id = models.CharField(max_length=80, blank=True, db_index=True)

    # Our own pacing, as a generation attempt's (see GenerationJob).
    finished = models.BooleanField(default=False, db_index=True)
    next_poll_at = models.DateTimeField(null=True, blank=True, db_index=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    submit_tries = models.PositiveIntegerField(default=0)
    error_streak = models.PositiveIntegerField(default=0)
    polls = models.PositiveIntegerField(default=0)
    retry_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(finished=True) | Q(state="indexing"),
                name="knowledge_finished_when_not_indexing",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.name!r} ({self.state})"

    @property
    def where(self) -> str:
        return self.project.name if self.project_id else gettext("Whole workspace")

    @property
    def charged(self) -> bool:
        """Counted in today's spend (as `pipeline/spend.py` counts it): Scripe took the job,
        or it was sent and not refused."""
        return self.accepted_at is not None or (
            self.submitted_at is not None and not self.error_code
        )

    @property
    def progress_percent(self) -> int:
        return round((self.progress or 0) * 100)

    @property
    def error_shown(self) -> str:
        """Why it failed, in the reader's language."""
        return shown(self.error_message, self.error_params)

    @property
    def progress_sentence(self) -> str:
        """Where an unfinished ingest stands, in one short sentence for its row."""
        if self.retry_reason:
            return gettext(self.retry_reason)
        if self.progress_message:
            return self.progress_message
        if self.scripe_job_id:
            return _("Waiting for Scripe to start indexing.")
        return _("Sending to Scripe.")

    # transitions: conditional UPDATEs on the state they expect ------------------------------
    def _still_mine(self, lease_until) -> models.QuerySet:
        rows = KnowledgeDocument.objects.filter(
            pk=self.pk, state=KnowledgeState.INDEXING, finished=False
        )
        return rows if lease_until is None else rows.filter(lease_until=lease_until)

    def save_progress(self, fields: list[str], *, lease_until=None) -> bool:
        """Writes what a poll learnt while the document is still indexing (and, given a lease,
        while this task still holds it); False when someone else finished or took it."""
        values = {name: getattr(self, name) for name in fields}
        self.updated_at = timezone.now()
        return bool(self._still_mine(lease_until).update(updated_at=self.updated_at, **values))

    def finish(self, state: str, *, lease_until=None, **values) -> bool:
        """Indexed or failed, once: False when the document had already left `indexing` (a
        webhook got there first, say) or, given a lease, another task holds it now."""
        now = timezone.now()
        values.update(state=state, finished=True, next_poll_at=None, retry_reason="")
        updated = self._still_mine(lease_until).update(updated_at=now, **values)
        if updated:
            for name, value in values.items():
                setattr(self, name, value)
            self.updated_at = now
        return bool(updated)
