"""Data that leaves the app: a workspace's export archive, built in the background and
offered to the workspace's admins for a while (calendar_app/portability/)."""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from calendar_app.models.workspaces import Workspace

# How long a ready archive can be downloaded; after that its file is deleted by the sweep.
EXPORT_KEEP = timedelta(hours=24)


class ExportStatus(models.TextChoices):
    PENDING = "pending", _("Being prepared")
    READY = "ready", _("Ready")
    FAILED = "failed", _("Failed")


class WorkspaceExport(models.Model):
    """One export of a whole workspace as a zip archive (manifest and JSON, no secrets)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    workspace = models.ForeignKey(Workspace, models.CASCADE, related_name="exports")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    status = models.CharField(
        max_length=12, choices=ExportStatus.choices, default=ExportStatus.PENDING
    )
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    # The archive on disk (settings.EXPORT_DIR) while it may be downloaded.
    path = models.CharField(max_length=500, blank=True)
    size_bytes = models.BigIntegerField(default=0)
    error_message = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Export of {self.workspace_id} ({self.status})"

    @property
    def expires_at(self):
        return self.finished_at + EXPORT_KEEP if self.finished_at else None

    @property
    def is_downloadable(self) -> bool:
        return (
            self.status == ExportStatus.READY
            and bool(self.path)
            and self.expires_at is not None
            and self.expires_at > timezone.now()
        )

    def finish(self, *, path: str, size_bytes: int) -> bool:
        """Pending → ready, once (a retried task finds it done and changes nothing)."""
        now = timezone.now()
        done = WorkspaceExport.objects.filter(pk=self.pk, status=ExportStatus.PENDING).update(
            status=ExportStatus.READY, path=path, size_bytes=size_bytes, finished_at=now
        )
        if done:
            self.status, self.path, self.size_bytes, self.finished_at = (
                ExportStatus.READY,
                path,
                size_bytes,
                now,
            )
        return bool(done)

    def fail(self, *, message: str) -> bool:
        """Pending → failed, with what went wrong (shown to the admin)."""
        now = timezone.now()
        done = WorkspaceExport.objects.filter(pk=self.pk, status=ExportStatus.PENDING).update(
            status=ExportStatus.FAILED, error_message=message[:500], finished_at=now
        )
        if done:
            self.status, self.error_message, self.finished_at = (
                ExportStatus.FAILED,
                message[:500],
                now,
            )
        return bool(done)
