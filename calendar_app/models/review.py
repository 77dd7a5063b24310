"""Client review links (#17)."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from calendar_app.models.pipeline import GenerationJob
from calendar_app.models.slots import PlannedSlot

# Client review links (#17) ---------------------------------------------------------------------


class ReviewLink(models.Model):
    """A draft shared with someone outside the app (a client, a founder) through a link that
    needs no login. Only a hash of its random token is kept (the address is shown once, when
    it is made); it expires, and revoking it makes the address answer 404 at once. What the
    guest does there is attributed to "guest <name>" in the trail (review/guests.py)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    slot = models.ForeignKey(PlannedSlot, models.CASCADE, related_name="review_links")
    token_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    # The version of the draft the link was made for (#24): the attempt and the fingerprint
    # of its text then. A link shows, and lets a guest approve, only that version.
    job = models.ForeignKey(GenerationJob, models.SET_NULL, null=True, blank=True, related_name="+")
    draft_version = models.CharField(max_length=16, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Review link for post {self.slot_id}"

    @property
    def is_live(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()

    @property
    def is_outdated(self) -> bool:
        """The draft is no longer the one the link was made for: Scripe wrote another
        attempt, or its text was changed since (by a manager, or in Scripe). Reads `job`,
        so load it with the link."""
        job = self.job
        return job is None or not job.is_current or job.draft_version != self.draft_version
