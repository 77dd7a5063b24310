"""Planning at volume (#15): labels, a posting schedule and its queue, recurring series."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from calendar_app.models.slots import PlannedSlot, SourceNote
from calendar_app.models.workspaces import Project, Workspace

# Planning at volume (#15): labels, a posting schedule and its queue, recurring series -----------

# Labels take one of a fixed palette (a class each in app.css): the Content-Security-Policy
# allows no inline style, so a free colour could not be shown.
LABEL_COLOURS = [
    (0, "Blue"),
    (1, "Green"),
    (2, "Amber"),
    (3, "Red"),
    (4, "Purple"),
    (5, "Teal"),
    (6, "Pink"),
    (7, "Grey"),
]


class Label(models.Model):
    """A campaign, theme or pillar a workspace tags its posts with; a slot has any number."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    workspace = models.ForeignKey(Workspace, models.CASCADE, related_name="labels")
    name = models.CharField(max_length=40)
    colour = models.PositiveSmallIntegerField(choices=LABEL_COLOURS, default=0)
    # Declared here rather than on PlannedSlot, so the slot's table is untouched; a slot
    # reads its labels as `slot.labels`.
    slots = models.ManyToManyField(PlannedSlot, related_name="labels", blank=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["workspace", "name"], name="one_label_per_name")
        ]

    def __str__(self) -> str:
        return self.name


WEEKDAY_CHOICES = [
    (0, _("Monday")),
    (1, _("Tuesday")),
    (2, _("Wednesday")),
    (3, _("Thursday")),
    (4, _("Friday")),
    (5, _("Saturday")),
    (6, _("Sunday")),
]


class ScheduleTime(models.Model):
    """One weekly posting time of a project: a weekday and a local time in the workspace's
    zone. The project's schedule is all of them; "Add to queue" fills them in order."""

    project = models.ForeignKey(Project, models.CASCADE, related_name="schedule_times")
    weekday = models.PositiveSmallIntegerField(choices=WEEKDAY_CHOICES)
    time = models.TimeField()

    class Meta:
        ordering = ["weekday", "time"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "weekday", "time"], name="one_schedule_time_per_slot"
            )
        ]

    def __str__(self) -> str:
        return f"{self.project}: {self.get_weekday_display()} {self.time:%H:%M}"


class QueueEntry(models.Model):
    """A post planned through the queue: its time is the queue's to give (top of queue,
    reorder, re-flow) until it is approved. A post planned for a time by hand has none."""

    slot = models.OneToOneField(PlannedSlot, models.CASCADE, related_name="queue_entry")
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Queued post {self.slot_id}"


class Series(models.Model):
    """A recurring post: a rule (weekly on weekdays, every N weeks, monthly on a day or on
    "the second Tuesday"; until a date or for a count) computed in the workspace's local
    time, so 09:00 stays 09:00 across DST. Occurrences are made a rolling horizon ahead
    (calendar_app/planning/series.py), each a normal slot."""

    class Frequency(models.TextChoices):
        WEEKLY = "weekly", _("Weekly")
        MONTHLY = "monthly", _("Monthly")

    class MonthlyBy(models.TextChoices):
        DAY = "day", _("On a day of the month")
        WEEKDAY = "weekday", _("On a weekday of the month")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    workspace = models.ForeignKey(Workspace, models.CASCADE, related_name="series")
    project = models.ForeignKey(Project, models.PROTECT, related_name="series")
    note = models.ForeignKey(SourceNote, models.PROTECT, related_name="series")
    labels = models.ManyToManyField(Label, blank=True, related_name="series")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, related_name="+"
    )
    # The first day the rule may fall on and the time of day, local to the workspace.
    starts_on = models.DateField()
    clock = models.TimeField()
    frequency = models.CharField(max_length=8, choices=Frequency.choices)
    interval = models.PositiveSmallIntegerField(default=1)
    # Weekly: weekdays, Monday 0, comma-separated ("1,3").
    weekdays = models.CharField(max_length=20, blank=True)
    monthly_by = models.CharField(max_length=8, choices=MonthlyBy.choices, blank=True)
    month_day = models.PositiveSmallIntegerField(null=True, blank=True)
    # "The second Tuesday": week_of_month 2 (-1 for the last), month_weekday 1.
    week_of_month = models.SmallIntegerField(null=True, blank=True)
    month_weekday = models.PositiveSmallIntegerField(null=True, blank=True)
    until = models.DateField(null=True, blank=True)
    count = models.PositiveIntegerField(null=True, blank=True)
    # A series split by "this and following" keeps counting where its first part stopped.
    first_index = models.PositiveIntegerField(default=1)
    previous = models.ForeignKey(
        "self", models.SET_NULL, null=True, blank=True, related_name="continued_by"
    )
    ended_at = models.DateTimeField(null=True, blank=True)
    materialised_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name_plural = _("series")

    def __str__(self) -> str:
        return f"Series of {self.project} from {self.starts_on}"


class SeriesOccurrence(models.Model):
    """One date of a series, once it is made: its slot (none when the rule fell on a time
    that could not be planned, said in `skipped`), its number in the series, and the line
    that steers Scripe away from writing the same post again."""

    series = models.ForeignKey(Series, models.CASCADE, related_name="occurrences")
    index = models.PositiveIntegerField()
    occurs_on = models.DateField()
    slot = models.OneToOneField(
        PlannedSlot, models.SET_NULL, null=True, blank=True, related_name="occurrence"
    )
    # Edited as "this one": a later change to the series leaves it as it is.
    detached = models.BooleanField(default=False)
    steering = models.CharField(max_length=300, blank=True)
    skipped = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["series_id", "index"]
        constraints = [
            models.UniqueConstraint(fields=["series", "index"], name="one_occurrence_per_index")
        ]

    def __str__(self) -> str:
        return f"Occurrence {self.index} of series {self.series_id}"
