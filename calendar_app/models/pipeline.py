"""Generation attempts: one row per attempt at having Scripe write a slot's post."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from calendar_app.models.slots import PlannedSlot
from scripe_integration.sentences import shown


class GenerationJob(models.Model):
    """One attempt at having Scripe write a slot's post, from our request to the post text.

    The idempotency key is created with the row, before any request is sent, so every retry of
    this attempt (after a timeout, a crash, a 503) replays the same Scripe job. A new attempt
    (Retry, or changes requested) is a new row with a new key; earlier rows are the history.
    """

    slot = models.ForeignKey(
        PlannedSlot, models.CASCADE, related_name="jobs", verbose_name=_("post")
    )
    attempt = models.PositiveSmallIntegerField(default=1)
    is_current = models.BooleanField(default=True)
    idempotency_key = models.CharField(max_length=64, unique=True)
    steering = models.TextField(blank=True, help_text=_("Reviewer's comment appended to the note."))
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    # What Scripe said about the job.
    scripe_job_id = models.CharField(max_length=80, blank=True, db_index=True)
    scripe_status = models.CharField(max_length=24, blank=True)
    progress = models.FloatField(null=True, blank=True)
    progress_message = models.CharField(max_length=200, blank=True)
    attempt_count = models.PositiveIntegerField(default=0)
    estimated_completion_ms = models.PositiveIntegerField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    error_code = models.CharField(max_length=60, blank=True)
    error_message = models.CharField(max_length=500, blank=True)
    # Its values, apart: each reader has it in their language (scripe_integration/sentences.py).
    error_params = models.JSONField(null=True, blank=True, editable=False)

    # The result.
    # Indexed: the sync and webhooks find a slot by the post Scripe wrote for it.
    post_id = models.CharField(max_length=80, blank=True, db_index=True)
    post_title = models.CharField(max_length=500, blank=True)
    post_content = models.TextField(blank=True)

    # Our own pacing: the worker that holds the lease is the only one acting on the row.
    finished = models.BooleanField(default=False, db_index=True)
    next_poll_at = models.DateTimeField(null=True, blank=True, db_index=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    # When a dispatcher last handed the attempt to a task; keeps other dispatchers from
    # handing it on again while that task waits in the queue.
    dispatched_at = models.DateTimeField(null=True, blank=True)
    submit_tries = models.PositiveIntegerField(default=0)
    error_streak = models.PositiveIntegerField(default=0)
    polls = models.PositiveIntegerField(default=0)
    scripe_calls = models.PositiveIntegerField(default=0)
    retry_reason = models.CharField(max_length=200, blank=True)
    stalled = models.BooleanField(default=False)

    class Meta:
        ordering = ["slot_id", "attempt"]
        constraints = [
            models.UniqueConstraint(fields=["slot", "attempt"], name="one_job_per_attempt"),
            models.UniqueConstraint(
                fields=["slot"],
                condition=models.Q(is_current=True),
                name="one_current_job_per_slot",
            ),
        ]

    def __str__(self) -> str:
        return f"Attempt {self.attempt} for post {self.slot_id} ({self.scripe_status or 'new'})"

    @property
    def error_shown(self) -> str:
        """Why the attempt failed, in the reader's language: the sentence is stored in
        English with its values apart (a task has no reader; scripe_integration/sentences.py);
        Scripe's own words stay as Scripe wrote them."""
        return shown(self.error_message, self.error_params)

    @property
    def duration(self):
        if self.accepted_at and self.completed_at:
            return self.completed_at - self.accepted_at
        return None

    @property
    def elapsed(self) -> str:
        """How long Scripe has been at it, for the card: "12 s", "2 min 5 s"."""
        if not self.submitted_at:
            return ""
        end = self.completed_at or timezone.now()
        seconds = max(0, int((end - self.submitted_at).total_seconds()))
        return f"{seconds} s" if seconds < 60 else f"{seconds // 60} min {seconds % 60} s"

    @property
    def progress_percent(self) -> int:
        return round((self.progress or 0) * 100)

    @property
    def retry_in_seconds(self) -> int | None:
        if not self.retry_reason or not self.next_poll_at:
            return None
        return max(0, int((self.next_poll_at - timezone.now()).total_seconds() + 0.999))

    @property
    def text_version(self) -> str:
        """A short fingerprint of the stored draft, which a review form sends back so a save
        or an approval based on an older text is noticed."""
        digest = hashlib.sha256(f"{self.post_title}\x00{self.post_content}".encode())
        return digest.hexdigest()[:16]

    @property
    def draft_version(self) -> str:
        """A fingerprint of the draft as a reader sees it, which a review link is made for
        (ReviewLink.draft_version). Unlike `text_version`, line endings and the whitespace
        around the title and text do not count: an approval trims the title, and that must
        not turn the guest's own link into one for another version."""
        title = self.post_title.replace("\r\n", "\n").strip()
        content = self.post_content.replace("\r\n", "\n").strip()
        return hashlib.sha256(f"{title}\x00{content}".encode()).hexdigest()[:16]

    @property
    def progress_sentence(self) -> str:
        """Where an unfinished attempt stands, in one short sentence for cards and panels."""
        if self.retry_reason:
            return _("Retrying in %(seconds)s s.") % {"seconds": self.retry_in_seconds}
        if self.stalled:
            return _("Taking longer than usual; still checking.")
        if self.progress_message:
            return self.progress_message
        if self.scripe_job_id:
            return _("Waiting for a Scripe writer.")
        return _("Sending to Scripe.")
