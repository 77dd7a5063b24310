"""CSV imports waiting for confirmation, and personal iCal feeds."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone

from calendar_app.models.workspaces import Workspace

IMPORT_KEEP = timedelta(hours=2)


class CsvImport(models.Model):
    """An uploaded (or pasted) CSV kept between its preview and its confirmation. The confirm
    step parses and validates this stored text again, never what the browser sends back, so
    the rows planned are exactly the ones the rules accept at that moment. Kept for
    IMPORT_KEEP, and deleted once imported."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    workspace = models.ForeignKey(Workspace, models.CASCADE, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="+")
    filename = models.CharField(max_length=200, blank=True)
    text = models.TextField()
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    def __str__(self) -> str:
        return f"CSV import {self.filename or '(pasted)'} for {self.workspace}"

    @property
    def expires_at(self) -> datetime:
        return self.created_at + IMPORT_KEEP


class CalendarFeed(models.Model):
    """A user's personal iCal feed. Only a hash of its token is kept: the address is shown
    once, when it is made; revoking deletes the row, so the old address answers 404."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, models.CASCADE, related_name="+")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_read_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"iCal feed of {self.user}"
