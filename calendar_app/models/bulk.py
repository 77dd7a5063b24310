"""Bulk actions (#16): a run over a selection of slots, one item per slot."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from calendar_app.models.slots import PlannedSlot


class BulkAction(models.TextChoices):
    GENERATE = "generate", _("Generate")
    MOVE = "move", _("Move")
    LABEL_ADD = "label_add", _("Add label")
    LABEL_REMOVE = "label_remove", _("Remove label")
    DELETE = "delete", _("Delete")
    RESTORE = "restore", _("Undo delete")
    # Undo of a Move or of a label's Add or Remove: each slot back as it was (bulk.bulk_undo).
    UNDO = "undo", _("Undo")
    APPROVE = "approve", _("Approve")
    REJECT = "reject", _("Reject")


class BulkRun(models.Model):
    """One bulk action on a selection of slots (calendar_app/bulk/services.py): what was asked, by
    whom, and one item per slot with what became of it. Small runs are done in the request;
    larger ones by a django-q2 task, which the run's page follows."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="bulk_runs")
    action = models.CharField(max_length=16, choices=BulkAction.choices)
    # What the action needs besides the slots: days or a date, a label, a reason, the zone.
    params = models.JSONField(default=dict, blank=True)
    # A Restore run undoes this Delete run; an Undo run this Move or label run.
    undoes = models.ForeignKey(
        "self", models.SET_NULL, null=True, blank=True, related_name="undone_by"
    )
    total = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    # When a task last made progress: a run without any for long has stalled (a lost task).
    touched_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.get_action_display()} on {self.total} posts by {self.user}"


class BulkItem(models.Model):
    """One slot of a bulk run and its outcome, in words."""

    class Outcome(models.TextChoices):
        PENDING = "pending", _("Waiting")
        WORKING = "working", _("Working")
        DONE = "done", _("Done")
        REFUSED = "refused", _("Refused")
        FAILED = "failed", _("Failed")

    run = models.ForeignKey(BulkRun, models.CASCADE, related_name="items")
    slot = models.ForeignKey(PlannedSlot, models.CASCADE, related_name="+")
    position = models.PositiveIntegerField()
    outcome = models.CharField(max_length=8, choices=Outcome.choices, default=Outcome.PENDING)
    message = models.CharField(max_length=500, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    # What an Undo needs to put this slot back, recorded with the change: a move's times
    # ({"from": ..., "to": ...}, ISO), or that a label really was added or removed
    # ({"label": true}); empty when the change changed nothing.
    before = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["run_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["run", "slot"], name="one_bulk_item_per_slot")
        ]

    def __str__(self) -> str:
        return f"Post {self.slot_id} in bulk run {self.run_id}: {self.outcome}"
