"""The calendar's domain: workspaces and their members, projects, source notes, planned slots.

State lives here: a slot's status only changes through its transition methods, each of which
sets every field the new state implies and refuses a move the state machine does not allow.
"""

from __future__ import annotations

import hashlib
import uuid
import zoneinfo
from datetime import datetime, timedelta
from functools import cache

from django.conf import settings
from django.core.validators import MaxLengthValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from calendar_app.refusals import Refusal
from scripe_integration.client import SOURCE_TEXT_MAX_CHARS

LANGUAGES = [
    ("en", "English"),
    ("de", "German"),
    ("fr", "French"),
    ("es", "Spanish"),
    ("it", "Italian"),
    ("nl", "Dutch"),
    ("pt", "Portuguese"),
]
PROJECT_COLOURS = 8


@cache
def time_zone_choices() -> list[tuple[str, str]]:
    names = sorted(zoneinfo.available_timezones() - {"localtime", "Factory"})
    return [(name, name.replace("_", " ")) for name in names]


class IllegalTransition(Refusal):
    """A status change the slot's state machine does not allow (now): the asker's page is
    out of date."""

    def __init__(self, message: str) -> None:
        super().__init__(message, status=409, stale=True)


class Workspace(models.Model):
    """A team. It maps to one Scripe workspace (and its key, kept by scripe_integration)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=200)
    time_zone = models.CharField(max_length=64, default="UTC", choices=time_zone_choices)
    review_required = models.BooleanField(
        default=True,
        help_text="Managers approve each draft before it is scheduled. Off: direct scheduling, "
        "the generation request itself schedules the post.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # Insights (#18): drafts are sent to Scripe on their own this many hours before their
    # time, so that review has time (calendar_app/insights.py, from the sweep).
    auto_generate_hours = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        help_text="Have Scripe write each draft this many hours before its time, once, while "
        "the daily spend cap allows. Empty or 0: off.",
    )
    # Review (#17): a second pair of eyes. On, a manager cannot approve a draft they sent back
    # (the current version exists because they asked for it) or edited (calendar_app/review.py).
    no_self_approval = models.BooleanField(
        default=False,
        verbose_name="No self-approval",
        help_text="A manager cannot approve a draft they requested changes on or edited "
        "themselves; another manager (or a client through a review link) approves it.",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)


class Role(models.TextChoices):
    EDITOR = "editor", "Editor"
    MANAGER = "manager", "Manager"
    ADMIN = "admin", "Admin"


ROLE_RANK = {Role.EDITOR: 1, Role.MANAGER: 2, Role.ADMIN: 3}


class Membership(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="memberships")
    workspace = models.ForeignKey(Workspace, models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.EDITOR)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "workspace"], name="one_membership_per_user")
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.workspace} ({self.get_role_display()})"

    def has_role(self, role: str) -> bool:
        return ROLE_RANK[Role(self.role)] >= ROLE_RANK[Role(role)]


class Profile(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, models.CASCADE, related_name="profile")
    time_zone = models.CharField(
        max_length=64,
        blank=True,
        choices=time_zone_choices,
        help_text="Blank: the workspace's time zone.",
    )

    def __str__(self) -> str:
        return f"Profile of {self.user}"


class Project(models.Model):
    """A Scripe project (a LinkedIn profile or page), mirrored by `sync_projects`."""

    class Type(models.TextChoices):
        PERSONAL_BRAND = "PERSONAL_BRAND", "Personal brand"
        COMPANY_PAGE = "COMPANY_PAGE", "Company page"

    class Status(models.TextChoices):
        ACTIVE = "ACTIVE", "Active"
        PAUSED = "PAUSED", "Paused"
        ARCHIVED = "ARCHIVED", "Archived"
        ERROR = "ERROR", "Error"

    INACTIVE_REASONS = {
        Status.PAUSED: "This project is paused in Scripe; resume it there to plan new posts.",
        Status.ARCHIVED: "This project is archived in Scripe; it takes no new posts.",
        Status.ERROR: "Scripe reports a problem with this project; check it in Scripe.",
    }

    workspace = models.ForeignKey(Workspace, models.CASCADE, related_name="projects")
    scripe_id = models.CharField(max_length=80)
    name = models.CharField(max_length=200)
    # Unknown values from Scripe are stored as sent; only the three inactive ones block slots.
    type = models.CharField(max_length=40, default=Type.PERSONAL_BRAND)
    status = models.CharField(max_length=40, default=Status.ACTIVE)
    linkedin_url = models.URLField(blank=True, max_length=500)
    colour = models.PositiveSmallIntegerField(default=0)
    synced_at = models.DateTimeField(null=True, blank=True)
    # When the sync last read this project's posts back from Scripe.
    posts_synced_at = models.DateTimeField(null=True, blank=True)
    missing_from_scripe = models.BooleanField(
        default=False, help_text="The last sync did not find this project in Scripe."
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "scripe_id"], name="one_project_per_scripe_id"
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_active(self) -> bool:
        return not self.missing_from_scripe and self.status not in self.INACTIVE_REASONS

    @property
    def inactive_reason(self) -> str:
        if self.missing_from_scripe:
            return "Scripe no longer lists this project; it takes no new posts."
        return self.INACTIVE_REASONS.get(self.status, "")

    @property
    def type_label(self) -> str:
        return dict(self.Type.choices).get(self.type, self.type.replace("_", " ").title())


class SourceNote(models.Model):
    """What the editor wrote: the idea, raw text or transcript Scripe writes the post from."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    workspace = models.ForeignKey(Workspace, models.CASCADE, related_name="notes")
    # A validator rather than max_length: max_length would make the admin's textarea cut a
    # long paste silently.
    text = models.TextField(validators=[MaxLengthValidator(SOURCE_TEXT_MAX_CHARS)])
    language = models.CharField(max_length=8, choices=LANGUAGES, default="en")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, related_name="notes"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.excerpt

    @property
    def excerpt(self) -> str:
        first = " ".join(self.text.split())
        return first if len(first) <= 60 else first[:57].rstrip() + "…"


class SlotStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    QUEUED = "queued", "Queued"
    GENERATING = "generating", "Generating"
    IN_REVIEW = "in_review", "Ready for review"
    SCHEDULED = "scheduled", "Scheduled"
    PUBLISHED = "published", "Published"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"
    CHANGES_REQUESTED = "changes_requested", "Changes requested"
    REJECTED = "rejected", "Rejected"
    MISSED = "missed", "Missed"
    # Approved, while Scripe is being asked to schedule it (a second or two).
    APPROVING = "approving", "Scheduling"
    # Its post was deleted in Scripe: generate it again, or delete the slot.
    REMOVED = "removed", "Removed in Scripe"


EDITABLE_STATUSES = frozenset(
    {SlotStatus.DRAFT, SlotStatus.FAILED, SlotStatus.CANCELLED, SlotStatus.REMOVED}
)
IN_FLIGHT_STATUSES = frozenset({SlotStatus.QUEUED, SlotStatus.GENERATING})
# What the posting queue may give another time (#15): anything not approved and not being
# written (a draft in review is approved at the slot's time, whatever it is then).
QUEUE_MOVABLE_STATUSES = EDITABLE_STATUSES | {SlotStatus.IN_REVIEW}
# What waits for a manager: drafts to review, and drafts whose time passed before approval.
REVIEW_STATUSES = frozenset({SlotStatus.IN_REVIEW, SlotStatus.MISSED})
GENERATABLE_STATUSES = frozenset(
    {
        SlotStatus.DRAFT,
        SlotStatus.FAILED,
        SlotStatus.CANCELLED,
        SlotStatus.CHANGES_REQUESTED,
        SlotStatus.REMOVED,
    }
)
# Slots whose post Scripe has and whose fate is not final: the sync reads them back.
FOLLOWED_STATUSES = frozenset({SlotStatus.IN_REVIEW, SlotStatus.MISSED, SlotStatus.SCHEDULED})


class SlotQuerySet(models.QuerySet):
    def alive(self) -> SlotQuerySet:
        return self.filter(deleted_at__isnull=True)

    def for_cards(self) -> SlotQuerySet:
        """Everything a card shows: one query for the slots, one for their current jobs."""
        current = GenerationJob.objects.filter(is_current=True)
        return self.select_related("project", "note").prefetch_related(
            models.Prefetch("jobs", queryset=current, to_attr="current_jobs")
        )


class PlannedSlot(models.Model):
    """One planned LinkedIn post: a note, a project and a time."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    workspace = models.ForeignKey(Workspace, models.CASCADE, related_name="slots")
    project = models.ForeignKey(Project, models.PROTECT, related_name="slots")
    note = models.ForeignKey(SourceNote, models.PROTECT, related_name="slots")
    scheduled_for = models.DateTimeField()
    status = models.CharField(max_length=24, choices=SlotStatus.choices, default=SlotStatus.DRAFT)
    status_changed_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Deleting hides the slot at once and keeps it a little while, so it can be undone.
    deleted_at = models.DateTimeField(null=True, blank=True)
    # The reviewer's last words (changes asked for, why it was rejected), shown on the card.
    status_note = models.TextField(blank=True)
    # The key of the request that planned it (a form's, an import row's): the same request
    # sent twice plans one slot.
    request_key = models.CharField(max_length=64, blank=True, editable=False)
    # What Scripe says after approval: when it was seen published, a warning about a post
    # that should have gone out (cleared when it does), and the `updatedAt` of the last copy
    # of the post applied here, so an older copy (a late webhook) never undoes a newer one.
    published_at = models.DateTimeField(null=True, blank=True)
    scripe_warning = models.CharField(max_length=300, blank=True)
    scripe_seen_at = models.DateTimeField(null=True, blank=True)
    # When the workspace's auto-generation sent this draft to Scripe: it does so once a slot.
    auto_generated_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = SlotQuerySet.as_manager()

    class Meta:
        ordering = ["scheduled_for", "id"]
        indexes = [
            models.Index(fields=["workspace", "scheduled_for"]),
            # The live poll: what changed in a workspace since a moment (views/generation.py).
            models.Index(fields=["workspace", "updated_at"], name="slot_workspace_updated"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "request_key"],
                condition=~Q(request_key=""),
                name="one_slot_per_request_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.project} at {self.scheduled_for:%Y-%m-%d %H:%M} UTC ({self.status})"

    @property
    def is_editable(self) -> bool:
        return self.status in EDITABLE_STATUSES

    @property
    def is_in_flight(self) -> bool:
        return self.status in IN_FLIGHT_STATUSES

    @property
    def can_generate(self) -> bool:
        return self.status in GENERATABLE_STATUSES

    @property
    def current_job(self):
        """The latest generation attempt, from the prefetch when there is one."""
        if hasattr(self, "current_jobs"):
            return self.current_jobs[0] if self.current_jobs else None
        return self.jobs.filter(is_current=True).first()

    @property
    def locked_reason(self) -> str:
        """Why the slot cannot be edited now, in words for the card."""
        return LOCKED_REASONS.get(self.status, "")

    def require_editable(self) -> None:
        """Refuses (409, the page is stale) when the slot can no longer be edited, moved or
        deleted, saying why; the conditional UPDATE of the change still decides a race."""
        if not self.is_editable:
            raise IllegalTransition(self.locked_reason)

    @property
    def shows_status_note(self) -> bool:
        """The reviewer's (or the sync's) words are the card's story only in the states they
        caused."""
        return bool(self.status_note) and self.status in REVIEWER_STATUSES

    @property
    def generate_label(self) -> str:
        if self.status == SlotStatus.REMOVED:
            return "Generate again"
        return "Retry" if self.status in (SlotStatus.FAILED, SlotStatus.CANCELLED) else "Generate"

    # transitions ------------------------------------------------------------------------------
    # Each one is a conditional UPDATE on the statuses it may start from, so of two requests
    # racing for the same slot exactly one moves it; the other gets an IllegalTransition that
    # says who got there first.

    def _move(self, new: SlotStatus, allowed_from: frozenset[str], **fields) -> None:
        now = timezone.now()
        values = {"status": new, "status_changed_at": now, "updated_at": now, **fields}
        self._update_if(Q(status__in=allowed_from), values)

    def _update_if(self, condition: Q, values: dict) -> None:
        moved = PlannedSlot.objects.filter(condition, pk=self.pk, deleted_at__isnull=True).update(
            **values
        )
        if not moved:
            self.refresh_from_db()
            raise IllegalTransition(self.taken_by_someone_else())
        for name, value in values.items():
            setattr(self, name, value)

    def taken_by_someone_else(self) -> str:
        """Why a request found the slot in another state than it expected: the last person
        who decided on it, what they did and when."""
        if self.deleted_at:
            return "This post was deleted in the meantime; your change was not made."
        last = (
            self.events.filter(kind=SlotEvent.Kind.STATUS, actor__isnull=False)
            .select_related("actor")
            .last()
        )
        if last is None or last.status not in DONE_BY:
            return f"It is {self.get_status_display().lower()} now; your change was not made."
        did = DONE_BY[last.status]
        if last.status == SlotStatus.QUEUED and self.jobs.filter(is_current=True, steering__gt=""):
            did = "asked for changes"  # the rewrite a request for changes starts
        when = timezone.localtime(last.created_at)
        return (
            f"{last.who} already {did}, at {when:%H:%M} on {when:%d %b}; your change was not "
            "made. The page now shows where it stands."
        )

    @classmethod
    def claim_for_generation(cls, pk: int) -> bool:
        """Moves the slot to `queued` if it may be generated. A conditional UPDATE, so of two
        clicks, tabs or requests racing for the same slot exactly one wins."""
        now = timezone.now()
        claimed = cls.objects.filter(
            pk=pk, status__in=GENERATABLE_STATUSES, deleted_at__isnull=True
        ).update(status=SlotStatus.QUEUED, status_changed_at=now, updated_at=now)
        return claimed == 1

    def mark_generating(self) -> None:
        if self.status != SlotStatus.GENERATING:
            self._move(SlotStatus.GENERATING, frozenset({SlotStatus.QUEUED}))

    def mark_ready(self, *, scheduled: bool) -> None:
        target = SlotStatus.SCHEDULED if scheduled else SlotStatus.IN_REVIEW
        self._move(target, IN_FLIGHT_STATUSES)

    def mark_failed(self) -> None:
        self._move(SlotStatus.FAILED, IN_FLIGHT_STATUSES)

    def mark_cancelled(self) -> None:
        self._move(SlotStatus.CANCELLED, IN_FLIGHT_STATUSES)

    def begin_approval(self) -> None:
        """Claims the draft for scheduling in Scripe, before the call: a request for changes
        or a rejection that arrives meanwhile loses, so Scripe only hears from the winner."""
        self._before_approval = (self.status, self.status_changed_at, self.updated_at)
        self._move(SlotStatus.APPROVING, frozenset({SlotStatus.IN_REVIEW}))

    def begin_change(self, *, expected: datetime | None = None) -> None:
        """Claims a scheduled post for a change in Scripe (a new time, unscheduling), before
        the call, the way `begin_approval` claims a draft: of two managers changing it at
        once, only one reaches Scripe. With `expected`, only while it is at that time."""
        self._before_approval = (self.status, self.status_changed_at, self.updated_at)
        now = timezone.now()
        at = Q(scheduled_for=expected) if expected is not None else Q()
        self._update_if(
            Q(status=SlotStatus.SCHEDULED) & at,
            {"status": SlotStatus.APPROVING, "status_changed_at": now, "updated_at": now},
        )

    def change_done(self, *, scheduled_for: datetime) -> None:
        self._move(
            SlotStatus.SCHEDULED,
            frozenset({SlotStatus.APPROVING}),
            scheduled_for=scheduled_for,
            scripe_warning="",
        )

    def unscheduled_by(self, who: str) -> None:
        self._move(
            SlotStatus.IN_REVIEW,
            frozenset({SlotStatus.APPROVING}),
            scripe_warning="",
            status_note=f"Unscheduled by {who}: approve it again, or reject it.",
        )

    def approve(self, *, scheduled_for: datetime | None = None) -> None:
        """Scheduled in Scripe; at `scheduled_for` when Scripe's copy says another time (a
        change settled after a lost answer)."""
        fields = {"scheduled_for": scheduled_for} if scheduled_for is not None else {}
        self._move(
            SlotStatus.SCHEDULED, frozenset({SlotStatus.APPROVING}), status_note="", **fields
        )

    def approval_failed(self, why: str | None = None) -> None:
        """Scripe did not schedule it (or refused the change): right after `begin_approval` or
        `begin_change` the row is restored exactly; otherwise (the sweep, after a crash) it
        goes back to review and `why` says what happened."""
        if why is None and hasattr(self, "_before_approval"):
            status, changed, updated = self._before_approval
            values = {"status": status, "status_changed_at": changed}
            self._update_if(Q(status=SlotStatus.APPROVING), {**values, "updated_at": updated})
            return
        self._move(SlotStatus.IN_REVIEW, frozenset({SlotStatus.APPROVING}), status_note=why or "")

    def request_changes(self, comment: str) -> None:
        self._move(
            SlotStatus.CHANGES_REQUESTED, frozenset({SlotStatus.IN_REVIEW}), status_note=comment
        )

    def reject(self, reason: str) -> None:
        self._move(SlotStatus.REJECTED, frozenset({SlotStatus.IN_REVIEW}), status_note=reason)

    def mark_missed(self) -> None:
        self._move(
            SlotStatus.MISSED,
            frozenset({SlotStatus.IN_REVIEW}),
            status_note="Its time passed before it was approved; pick a new time.",
        )

    def give_new_time(self, when: datetime) -> None:
        """A missed slot comes back for review at a new time."""
        self._move(
            SlotStatus.IN_REVIEW,
            frozenset({SlotStatus.MISSED}),
            scheduled_for=when,
            status_note="",
        )

    # What Scripe did, read back by the sync (calendar_app/sync.py). No person decided these,
    # so none is named; each still moves only from the state it expects.

    def mark_published(self, at: datetime) -> None:
        """Scripe published it: approved here, or published from Scripe's own dashboard."""
        self._move(
            SlotStatus.PUBLISHED,
            frozenset({SlotStatus.SCHEDULED, SlotStatus.IN_REVIEW, SlotStatus.MISSED}),
            published_at=at,
            scripe_warning="",
            status_note="",
        )

    def note_scripe_copy(self, updated_at: datetime | None) -> None:
        """Remembers the `updatedAt` of Scripe's copy of the post this slot now agrees with
        (from the sync, a webhook, or our own change's answer). Only ever later, so a copy
        that arrives late cannot undo a newer one (calendar_app/sync.py)."""
        if updated_at is None:
            return
        later = Q(scripe_seen_at__isnull=True) | Q(scripe_seen_at__lt=updated_at)
        if PlannedSlot.objects.filter(later, pk=self.pk).update(scripe_seen_at=updated_at):
            self.scripe_seen_at = updated_at

    def follow_scripe_time(self, when: datetime) -> None:
        """Rescheduled in Scripe: our time follows theirs."""
        self._update_if(
            Q(status=SlotStatus.SCHEDULED),
            {"scheduled_for": when, "scripe_warning": "", "updated_at": timezone.now()},
        )

    def scheduled_in_scripe(self, when: datetime) -> None:
        """Someone scheduled the draft in Scripe itself: it is approved there."""
        self._move(
            SlotStatus.SCHEDULED,
            frozenset({SlotStatus.IN_REVIEW, SlotStatus.MISSED}),
            scheduled_for=when,
            status_note="",
        )

    def unscheduled_in_scripe(self) -> None:
        self._move(
            SlotStatus.IN_REVIEW,
            frozenset({SlotStatus.SCHEDULED}),
            scripe_warning="",
            status_note="Unscheduled in Scripe: approve it again, or reject it.",
        )

    def mark_removed(self) -> None:
        self._move(
            SlotStatus.REMOVED,
            FOLLOWED_STATUSES,
            scripe_warning="",
            status_note="Removed in Scripe: generate it again, or delete it.",
        )

    def warn(self, warning: str) -> None:
        """A scheduled post that should have gone out; the warning goes when it does."""
        if self.scripe_warning != warning:
            self._update_if(
                Q(status=SlotStatus.SCHEDULED),
                {"scripe_warning": warning[:300], "updated_at": timezone.now()},
            )

    def reschedule(self, when: datetime, *, expected: datetime | None = None) -> None:
        """A new time, while the slot is editable; with `expected`, only from that time (an
        undo does not move back a slot someone moved again meanwhile)."""
        at = Q(scheduled_for=expected) if expected is not None else Q()
        self._update_if(
            Q(status__in=EDITABLE_STATUSES) & at,
            {"scheduled_for": when, "updated_at": timezone.now()},
        )

    def queue_move(self, when: datetime, *, expected: datetime) -> None:
        """The queue gives the post another of its schedule times (#15): only a post not yet
        approved, and only from the time the queue saw it at, so two reorders racing never
        lose or duplicate a time (the loser is refused and its transaction rolled back)."""
        self._update_if(
            Q(status__in=QUEUE_MOVABLE_STATUSES, scheduled_for=expected),
            {"scheduled_for": when, "updated_at": timezone.now()},
        )

    def replan(self, *, project: Project, note: SourceNote, scheduled_for: datetime) -> None:
        values = {"project": project, "note": note, "scheduled_for": scheduled_for}
        self._update_if(
            Q(status__in=EDITABLE_STATUSES),
            {**values, "updated_at": timezone.now()},
        )

    def soft_delete(self) -> None:
        now = timezone.now()
        self._update_if(
            Q(status__in=EDITABLE_STATUSES),
            {"deleted_at": now, "updated_at": now},
        )

    def restore(self) -> bool:
        """Undoes a delete; False when there was nothing to undo."""
        restored = PlannedSlot.objects.filter(pk=self.pk, deleted_at__isnull=False).update(
            deleted_at=None, updated_at=timezone.now()
        )
        self.deleted_at = None
        return restored == 1


LOCKED_REASONS = {
    SlotStatus.QUEUED: "Scripe is about to write this post; wait until it is done.",
    SlotStatus.GENERATING: "Scripe is writing this post; wait until it is done.",
    SlotStatus.IN_REVIEW: "The draft is waiting for review.",
    SlotStatus.APPROVING: "The post is being scheduled in Scripe right now.",
    SlotStatus.SCHEDULED: "The post is scheduled in Scripe.",
    SlotStatus.PUBLISHED: "The post is published.",
    SlotStatus.REJECTED: "The draft was rejected.",
    SlotStatus.CHANGES_REQUESTED: "Changes were requested; Scripe will write it again.",
    SlotStatus.MISSED: "Its time passed before it was scheduled; pick a new time.",
}
# What someone did to put a slot in a status, for "someone else got there first".
DONE_BY = {
    SlotStatus.QUEUED: "sent it to Scripe",
    SlotStatus.APPROVING: "started approving it",
    SlotStatus.SCHEDULED: "approved it",
    SlotStatus.CHANGES_REQUESTED: "asked for changes",
    SlotStatus.REJECTED: "rejected it",
}
REVIEWER_STATUSES = frozenset(
    {
        SlotStatus.CHANGES_REQUESTED,
        SlotStatus.REJECTED,
        SlotStatus.MISSED,
        SlotStatus.IN_REVIEW,
        SlotStatus.REMOVED,
    }
)


class GenerationJob(models.Model):
    """One attempt at having Scripe write a slot's post, from our request to the post text.

    The idempotency key is created with the row, before any request is sent, so every retry of
    this attempt (after a timeout, a crash, a 503) replays the same Scripe job. A new attempt
    (Retry, or changes requested) is a new row with a new key; earlier rows are the history.
    """

    slot = models.ForeignKey(PlannedSlot, models.CASCADE, related_name="jobs")
    attempt = models.PositiveSmallIntegerField(default=1)
    is_current = models.BooleanField(default=True)
    idempotency_key = models.CharField(max_length=64, unique=True)
    steering = models.TextField(blank=True, help_text="Reviewer's comment appended to the note.")
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
        return f"Attempt {self.attempt} for slot {self.slot_id} ({self.scripe_status or 'new'})"

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
    def progress_sentence(self) -> str:
        """Where an unfinished attempt stands, in one short sentence for cards and panels."""
        if self.retry_reason:
            return f"Retrying in {self.retry_in_seconds} s."
        if self.stalled:
            return "Taking longer than usual; still checking."
        if self.progress_message:
            return self.progress_message
        if self.scripe_job_id:
            return "Waiting for a Scripe writer."
        return "Sending to Scripe."


UNDO_SECONDS = 10


def undo_deadline(slot: PlannedSlot) -> datetime | None:
    return slot.deleted_at + timedelta(seconds=UNDO_SECONDS) if slot.deleted_at else None


class SlotEvent(models.Model):
    """The slot's activity trail: who did what and when, and the comments."""

    class Kind(models.TextChoices):
        COMMENT = "comment", "Comment"
        STATUS = "status", "Status change"
        EDIT = "edit", "Draft edited"

    slot = models.ForeignKey(PlannedSlot, models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(max_length=12, choices=Kind.choices)
    status = models.CharField(max_length=24, choices=SlotStatus.choices, blank=True)
    text = models.TextField(blank=True)
    # An edit made in Scripe: the text it replaced, kept as a version.
    earlier_text = models.TextField(blank=True)
    # Someone outside the app who acted through a review link (ReviewLink): no actor, a name.
    guest_name = models.CharField(max_length=80, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on slot {self.slot_id}"

    @property
    def who(self) -> str:
        if self.guest_name:
            return f"guest {self.guest_name}"
        if self.actor is None:
            # Nobody in the app: the pipeline or the sync, reporting what Scripe did.
            return "Scripe" if self.kind != self.Kind.COMMENT else "Someone"
        return person_name(self.actor)


def person_name(user) -> str:
    """How the app names a person: their full name, else their username."""
    return user.get_full_name() or user.get_username()


# Interchange: CSV imports waiting for confirmation, and personal iCal feeds ----------------------

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


# Notifications (#17) ---------------------------------------------------------------------------


class NotificationKind(models.TextChoices):
    """What a person is told about. Which slot status leads to which kind, and who hears of
    it, is one table in calendar_app/notifications.py."""

    REVIEW_READY = "review_ready", "A draft is ready for review"
    CHANGES_REQUESTED = "changes_requested", "Changes were requested"
    REJECTED = "rejected", "A draft was rejected"
    APPROVED = "approved", "A post was approved and scheduled"
    PUBLISHED = "published", "A post was published"
    FAILED = "failed", "A generation failed"
    MISSED = "missed", "A draft missed its time"
    REMOVED = "removed", "A post was removed in Scripe"
    KEY_INVALID = "key_invalid", "The Scripe key stopped working"
    SPEND_CAP = "spend_cap", "Scripe's daily spend cap was reached"


class EmailChoice(models.TextChoices):
    IMMEDIATE = "immediate", "Email at once"
    DIGEST = "digest", "Daily digest"
    OFF = "off", "No email"


class Notification(models.Model):
    """One thing one person is told, in the app (read or not) and by email (its own state:
    a send is retried by its task and never touches the event that caused it)."""

    class Email(models.TextChoices):
        NONE = "none", "Not emailed"
        PENDING = "pending", "To be sent"
        DIGEST = "digest", "For the daily digest"
        SENDING = "sending", "Being sent"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="notifications")
    workspace = models.ForeignKey(Workspace, models.CASCADE, related_name="+")
    slot = models.ForeignKey(
        PlannedSlot, models.CASCADE, null=True, blank=True, related_name="notifications"
    )
    kind = models.CharField(max_length=24, choices=NotificationKind.choices)
    text = models.CharField(max_length=500)
    detail = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)
    # Events that must be told once (the spend cap: once a workspace a UTC day) carry a key;
    # a second insert with the same key for the same person is ignored.
    dedupe_key = models.CharField(max_length=120, blank=True)
    email = models.CharField(max_length=8, choices=Email.choices, default=Email.NONE)
    email_attempts = models.PositiveSmallIntegerField(default=0)
    email_error = models.CharField(max_length=300, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)
    # When `email` last changed: how the sweep tells a send a dead worker left half done.
    email_state_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "-created_at"], name="notification_user_recent"),
            # The bell: one count of a person's unread notifications, on every live poll.
            models.Index(
                fields=["user"], condition=Q(read_at__isnull=True), name="notification_unread"
            ),
            models.Index(
                fields=["email", "user"],
                condition=Q(email__in=["pending", "digest", "sending"]),
                name="notification_email_due",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "dedupe_key"],
                condition=~Q(dedupe_key=""),
                name="one_notification_per_dedupe_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for {self.user}"


class NotificationPreference(models.Model):
    """A person's choice of email for one kind; without a row, the kind's default holds
    (notifications.DEFAULT_EMAIL). In the app, every notification shows."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.CASCADE, related_name="notification_preferences"
    )
    kind = models.CharField(max_length=24, choices=NotificationKind.choices)
    email = models.CharField(max_length=12, choices=EmailChoice.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "kind"], name="one_preference_per_kind")
        ]

    def __str__(self) -> str:
        return f"{self.user}: {self.kind} → {self.email}"


class SlotWatch(models.Model):
    """Someone who wants to hear what happens to a slot they did not plan (its creator
    always does). Commenting watches it."""

    slot = models.ForeignKey(PlannedSlot, models.CASCADE, related_name="watches")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["slot", "user"], name="one_watch_per_user")]

    def __str__(self) -> str:
        return f"{self.user} watches slot {self.slot_id}"


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
    (0, "Monday"),
    (1, "Tuesday"),
    (2, "Wednesday"),
    (3, "Thursday"),
    (4, "Friday"),
    (5, "Saturday"),
    (6, "Sunday"),
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
        return f"Queued slot {self.slot_id}"


class Series(models.Model):
    """A recurring post: a rule (weekly on weekdays, every N weeks, monthly on a day or on
    "the second Tuesday"; until a date or for a count) computed in the workspace's local
    time, so 09:00 stays 09:00 across DST. Occurrences are made a rolling horizon ahead
    (calendar_app/recurrence.py), each a normal slot."""

    class Frequency(models.TextChoices):
        WEEKLY = "weekly", "Weekly"
        MONTHLY = "monthly", "Monthly"

    class MonthlyBy(models.TextChoices):
        DAY = "day", "On a day of the month"
        WEEKDAY = "weekday", "On a weekday of the month"

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
        verbose_name_plural = "series"

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


# Bulk actions (#16) ----------------------------------------------------------------------------


class BulkAction(models.TextChoices):
    GENERATE = "generate", "Generate"
    MOVE = "move", "Move"
    LABEL_ADD = "label_add", "Add label"
    LABEL_REMOVE = "label_remove", "Remove label"
    DELETE = "delete", "Delete"
    RESTORE = "restore", "Undo delete"
    # Undo of a Move or of a label's Add or Remove: each slot back as it was (bulk.bulk_undo).
    UNDO = "undo", "Undo"
    APPROVE = "approve", "Approve"
    REJECT = "reject", "Reject"


class BulkRun(models.Model):
    """One bulk action on a selection of slots (calendar_app/bulk.py): what was asked, by
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
        return f"{self.get_action_display()} on {self.total} slots by {self.user}"


class BulkItem(models.Model):
    """One slot of a bulk run and its outcome, in words."""

    class Outcome(models.TextChoices):
        PENDING = "pending", "Waiting"
        WORKING = "working", "Working"
        DONE = "done", "Done"
        REFUSED = "refused", "Refused"
        FAILED = "failed", "Failed"

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
        return f"Slot {self.slot_id} in bulk run {self.run_id}: {self.outcome}"


# Client review links (#17) ---------------------------------------------------------------------


class ReviewLink(models.Model):
    """A draft shared with someone outside the app (a client, a founder) through a link that
    needs no login. Only a hash of its random token is kept (the address is shown once, when
    it is made); it expires, and revoking it makes the address answer 404 at once. What the
    guest does there is attributed to "guest <name>" in the trail (calendar_app/guests.py)."""

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

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Review link for slot {self.slot_id}"

    @property
    def is_live(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()
