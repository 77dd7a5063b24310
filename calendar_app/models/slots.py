"""Source notes and planned slots, the entity every capability works on.

State lives here: a slot's status only changes through its transition methods, each of which
sets every field the new state implies and refuses a move the state machine does not allow
(`IllegalTransition`)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.core.validators import MaxLengthValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from calendar_app.core.refusals import Refusal
from calendar_app.models.workspaces import LANGUAGES, Project, Workspace
from scripe_integration.contract import SOURCE_TEXT_MAX_CHARS
from scripe_integration.sentences import Said, shown, stored


class IllegalTransition(Refusal):
    """A status change the slot's state machine does not allow (now): the asker's page is
    out of date."""

    def __init__(self, message: str) -> None:
        super().__init__(message, status=409, stale=True)


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
    DRAFT = "draft", _("Draft")
    QUEUED = "queued", _("Queued")
    GENERATING = "generating", _("Generating")
    IN_REVIEW = "in_review", _("Ready for review")
    SCHEDULED = "scheduled", _("Scheduled")
    PUBLISHED = "published", _("Published")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")
    CHANGES_REQUESTED = "changes_requested", _("Changes requested")
    REJECTED = "rejected", _("Rejected")
    MISSED = "missed", _("Missed")
    # Approved, while Scripe is being asked to schedule it (a second or two).
    APPROVING = "approving", _("Scheduling")
    # Its post was deleted in Scripe: generate it again, or delete the slot.
    REMOVED = "removed", _("Removed in Scripe")


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


# The name a slot's current attempt is read under when joined into its row.
CURRENT_ATTEMPT = "current_attempt"


class SlotQuerySet(models.QuerySet):
    def alive(self) -> SlotQuerySet:
        return self.filter(deleted_at__isnull=True)

    def with_current_attempt(self) -> SlotQuerySet:
        """Each slot with its current attempt joined into the same row (`current_job` reads
        it), not fetched by a second query, which may see a later state than the first."""
        current = models.FilteredRelation("jobs", condition=Q(jobs__is_current=True))
        return (
            self.annotate(**{CURRENT_ATTEMPT: current})
            .select_related(CURRENT_ATTEMPT)
            # Present, maybe None, on every slot read this way: says the join was made.
            .annotate(**{f"{CURRENT_ATTEMPT}_pk": models.F(f"{CURRENT_ATTEMPT}__pk")})
        )

    def for_cards(self) -> SlotQuerySet:
        """Everything a card shows, in one query: the slot, its project and note, and its
        current attempt in the same row."""
        return self.select_related("project", "note").with_current_attempt()


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
    # The values of a note the app wrote ("Unscheduled by %(who)s…"), kept apart so each
    # reader has it in their language (scripe_integration/sentences.py); None for words a
    # person wrote, or a fixed sentence. `_update_if` keeps the two together.
    status_note_params = models.JSONField(null=True, blank=True, editable=False)
    # The key of the request that planned it (a form's, an import row's): the same request
    # sent twice plans one slot.
    request_key = models.CharField(max_length=64, blank=True, editable=False)
    # What Scripe says after approval: when it was seen published, a warning about a post
    # that should have gone out (cleared when it does), and the `updatedAt` of the last copy
    # of the post applied here, so an older copy (a late webhook) never undoes a newer one.
    published_at = models.DateTimeField(null=True, blank=True)
    scripe_warning = models.CharField(max_length=300, blank=True)
    scripe_warning_params = models.JSONField(null=True, blank=True, editable=False)
    scripe_seen_at = models.DateTimeField(null=True, blank=True)
    # When the workspace's auto-generation sent this draft to Scripe: it does so once a slot.
    auto_generated_at = models.DateTimeField(null=True, blank=True, editable=False)
    # The idea it was planned from (#26), shown on the post and on the idea.
    idea = models.ForeignKey(
        "calendar_app.Idea", models.SET_NULL, null=True, blank=True, related_name="slots"
    )

    objects = SlotQuerySet.as_manager()

    class Meta:
        # What people call it, in the admin too (#24); "slot" is the code's word.
        verbose_name = _("post")
        ordering = ["scheduled_for", "id"]
        indexes = [
            models.Index(fields=["workspace", "scheduled_for"]),
            # The live poll: what changed in a workspace since a moment (planning/views/live.py).
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
        """The latest generation attempt: as read in the slot's own row
        (`with_current_attempt`), else from the prefetch, else by a query."""
        if hasattr(self, f"{CURRENT_ATTEMPT}_pk"):
            # select_related sets the attempt only when the join found one.
            return getattr(self, CURRENT_ATTEMPT, None)
        if hasattr(self, "current_jobs"):
            return self.current_jobs[0] if self.current_jobs else None
        return self.jobs.filter(is_current=True).first()

    @property
    def locked_reason(self) -> str:
        """Why the slot cannot be edited now, in words for the card."""
        reason = LOCKED_REASONS.get(self.status, "")
        return gettext(reason) if reason else ""

    def require_editable(self) -> None:
        """Refuses (409, the page is stale) when the slot can no longer be edited, moved or
        deleted, saying why; the conditional UPDATE of the change still decides a race."""
        if not self.is_editable:
            raise IllegalTransition(self.locked_reason)

    @property
    def status_note_shown(self) -> str:
        """The note in the reader's language (a person's own words as they wrote them)."""
        return shown(self.status_note, self.status_note_params)

    @property
    def scripe_warning_shown(self) -> str:
        return shown(self.scripe_warning, self.scripe_warning_params)

    @property
    def shows_status_note(self) -> bool:
        """The reviewer's (or the sync's) words are the card's story only in the states they
        caused."""
        return bool(self.status_note) and self.status in REVIEWER_STATUSES

    @property
    def generate_label(self) -> str:
        # English, compared by the view; the templates translate it.
        if self.status == SlotStatus.REMOVED:
            return gettext_noop("Generate again")
        if self.status in (SlotStatus.FAILED, SlotStatus.CANCELLED):
            return gettext_noop("Retry")
        return gettext_noop("Generate")

    # transitions ------------------------------------------------------------------------------
    # Each one is a conditional UPDATE on the statuses it may start from, so of two requests
    # racing for the same slot exactly one moves it; the other gets an IllegalTransition that
    # says who got there first.

    def _move(self, new: SlotStatus, allowed_from: frozenset[str], **fields) -> None:
        now = timezone.now()
        values = {"status": new, "status_changed_at": now, "updated_at": now, **fields}
        self._update_if(Q(status__in=allowed_from), values)

    def _update_if(self, condition: Q, values: dict) -> None:
        for name, limit in _SENTENCES.items():
            if name in values:
                values[name], values[f"{name}_params"] = stored(values[name], limit)
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
            return _("This post was deleted in the meantime; your change was not made.")
        last = (
            self.events.filter(kind=self.events.model.Kind.STATUS, actor__isnull=False)
            .select_related("actor")
            .last()
        )
        if last is None or last.status not in DONE_BY:
            return _("It is %(status)s now; your change was not made.") % {
                "status": self.get_status_display().lower()
            }
        did = DONE_BY[last.status]
        if last.status == SlotStatus.QUEUED and self.jobs.filter(is_current=True, steering__gt=""):
            did = DONE_BY[SlotStatus.CHANGES_REQUESTED]  # the rewrite it starts
        when = timezone.localtime(last.created_at)
        return gettext(did) % {
            "who": last.who,
            "time": date_format(when, "H:i"),
            "day": date_format(when, gettext("j M")),
        }

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
            status_note=Said(
                gettext_noop("Unscheduled by %(who)s: approve it again, or reject it."), who=who
            ),
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
            status_note=gettext_noop("Its time passed before it was approved; pick a new time."),
        )

    def give_new_time(self, when: datetime) -> None:
        """A missed slot comes back for review at a new time."""
        self._move(
            SlotStatus.IN_REVIEW,
            frozenset({SlotStatus.MISSED}),
            scheduled_for=when,
            status_note="",
        )

    # What Scripe did, read back by the sync (pipeline/sync.py). No person decided these, so
    # none is named; each still moves only from the state it expects.

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
        that arrives late cannot undo a newer one (calendar_app/pipeline/sync.py)."""
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
            status_note=gettext_noop("Unscheduled in Scripe: approve it again, or reject it."),
        )

    def mark_removed(self) -> None:
        self._move(
            SlotStatus.REMOVED,
            FOLLOWED_STATUSES,
            scripe_warning="",
            status_note=gettext_noop("Removed in Scripe: generate it again, or delete it."),
        )

    def warn(self, warning: str) -> bool:
        """A scheduled post that should have gone out; the warning goes when it does. True
        when the warning is new (the same one again changes nothing)."""
        if (self.scripe_warning, self.scripe_warning_params) == stored(warning, 300):
            return False
        self._update_if(
            Q(status=SlotStatus.SCHEDULED),
            {"scripe_warning": warning, "updated_at": timezone.now()},
        )
        return True

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


# Said in a request, so translated where used (`locked_reason`, `taken_by_someone_else`).
LOCKED_REASONS = {
    SlotStatus.QUEUED: gettext_noop("Scripe is about to write this post; wait until it is done."),
    SlotStatus.GENERATING: gettext_noop("Scripe is writing this post; wait until it is done."),
    SlotStatus.IN_REVIEW: gettext_noop("The draft is waiting for review."),
    SlotStatus.APPROVING: gettext_noop("The post is being scheduled in Scripe right now."),
    SlotStatus.SCHEDULED: gettext_noop("The post is scheduled in Scripe."),
    SlotStatus.PUBLISHED: gettext_noop("The post is published."),
    SlotStatus.REJECTED: gettext_noop("The draft was rejected."),
    SlotStatus.CHANGES_REQUESTED: gettext_noop(
        "Changes were requested; Scripe will write it again."
    ),
    SlotStatus.MISSED: gettext_noop("Its time passed before it was scheduled; pick a new time."),
}
# What someone did to put a slot in a status, for "someone else got there first": a whole
# sentence each, as languages put the deed in different places.
DONE_BY = {
    SlotStatus.QUEUED: gettext_noop(
        "%(who)s already sent it to Scripe, at %(time)s on %(day)s; your change was not made. "
        "The page now shows where it stands."
    ),
    SlotStatus.APPROVING: gettext_noop(
        "%(who)s already started approving it, at %(time)s on %(day)s; your change was not "
        "made. The page now shows where it stands."
    ),
    SlotStatus.SCHEDULED: gettext_noop(
        "%(who)s already approved it, at %(time)s on %(day)s; your change was not made. The "
        "page now shows where it stands."
    ),
    SlotStatus.CHANGES_REQUESTED: gettext_noop(
        "%(who)s already asked for changes, at %(time)s on %(day)s; your change was not made. "
        "The page now shows where it stands."
    ),
    SlotStatus.REJECTED: gettext_noop(
        "%(who)s already rejected it, at %(time)s on %(day)s; your change was not made. The "
        "page now shows where it stands."
    ),
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


UNDO_SECONDS = 10
# The columns that hold a sentence with its values apart (`*_params`), and their lengths.
_SENTENCES = {"status_note": None, "scripe_warning": 300}


def undo_deadline(slot: PlannedSlot) -> datetime | None:
    return slot.deleted_at + timedelta(seconds=UNDO_SECONDS) if slot.deleted_at else None
