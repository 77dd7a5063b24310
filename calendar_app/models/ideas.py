"""The ideas board (#26): source notes without a date, the team's and Scripe's suggestions,
until they are planned as posts (a slot's `idea`) or dismissed."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from calendar_app.models.planning import Label
from calendar_app.models.slots import IllegalTransition
from calendar_app.models.sources import Source
from calendar_app.models.workspaces import Project, Workspace, person_name


class IdeaState(models.TextChoices):
    NEW = "new", _("New")
    PICKED = "picked", _("Picked")
    USED = "used", _("Used")
    DISMISSED = "dismissed", _("Dismissed")


# States an idea may be planned from: one idea may feed several posts, a dismissed one none.
PLANNABLE_IDEA_STATES = frozenset({IdeaState.NEW, IdeaState.PICKED, IdeaState.USED})


class Idea(models.Model):
    """A note for a post some day: text and/or a link, maybe a project and labels, an owner.
    Scripe's own suggestions (its posts in status `suggested`) are ideas too, with the
    suggestion's post id, so the board, taking and dismissing work the same way for both."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    workspace = models.ForeignKey(Workspace, models.CASCADE, related_name="ideas")
    project = models.ForeignKey(
        Project, models.SET_NULL, null=True, blank=True, related_name="ideas"
    )
    labels = models.ManyToManyField(Label, blank=True, related_name="ideas")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    text = models.TextField(blank=True)
    link = models.URLField(blank=True, max_length=1000)
    language = models.CharField(max_length=8, default="en")
    state = models.CharField(max_length=12, choices=IdeaState.choices, default=IdeaState.NEW)
    state_changed_at = models.DateTimeField(default=timezone.now)
    state_changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # A suggestion of Scripe's: the post it is in Scripe (empty for the team's own ideas).
    scripe_post_id = models.CharField(max_length=64, blank=True, editable=False)
    title = models.CharField(max_length=500, blank=True)
    # A hook of a source put on the board (#26): planned, its post carries the hook and the
    # source as steering (a HookPlan, one post per source and hook).
    source = models.ForeignKey(Source, models.SET_NULL, null=True, blank=True, related_name="ideas")
    hook_id = models.CharField(max_length=80, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["workspace", "state"], name="idea_workspace_state")]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "scripe_post_id"],
                condition=~Q(scripe_post_id=""),
                name="one_idea_per_suggestion",
            ),
            models.UniqueConstraint(
                fields=["source", "hook_id"],
                condition=~Q(hook_id=""),
                name="one_idea_per_source_hook",
            ),
        ]

    def __str__(self) -> str:
        return self.headline

    @property
    def is_suggestion(self) -> bool:
        return bool(self.scripe_post_id)

    @property
    def hook(self) -> dict | None:
        """The source's hook this idea is, with its topic (`{"hook", "topic"}`), else None."""
        if not self.hook_id or self.source is None:
            return None
        return self.source.hook_with_topic(self.hook_id)

    @property
    def headline(self) -> str:
        first = (self.title or self.text or self.link or "Idea").strip().splitlines()[0]
        return first[:80] + ("…" if len(first) > 80 else "")

    def note_text(self) -> str:
        """What a post planned from the idea carries as its source note."""
        parts = [self.title, self.text, self.link]
        return "\n\n".join(p.strip() for p in parts if p and p.strip())

    # transitions: a conditional UPDATE on the states each expects -----------------------------

    def _move(self, new: str, allowed_from, *, by=None) -> None:
        now = timezone.now()
        values = {"state": new, "state_changed_at": now, "state_changed_by": by, "updated_at": now}
        moved = Idea.objects.filter(pk=self.pk, state__in=list(allowed_from)).update(**values)
        if not moved:
            self.refresh_from_db()
            raise IllegalTransition(self.taken_by_someone_else())
        for name, value in values.items():
            setattr(self, name, value)

    def taken_by_someone_else(self) -> str:
        if self.state_changed_by_id:
            who = person_name(self.state_changed_by)
        else:
            who = "Scripe" if self.is_suggestion else gettext("Someone")
        when = timezone.localtime(self.state_changed_at, self.workspace.zone)
        return gettext(
            "%(who)s marked this idea %(state)s at %(time)s on %(day)s; the board now shows it "
            "as it is."
        ) % {
            "who": who,
            "state": str(self.get_state_display()).lower(),
            "time": date_format(when, "H:i"),
            "day": date_format(when, gettext("j M")),
        }

    def pick(self, *, by) -> None:
        self._move(IdeaState.PICKED, {IdeaState.NEW}, by=by)

    def unpick(self, *, by) -> None:
        self._move(IdeaState.NEW, {IdeaState.PICKED}, by=by)

    def mark_used(self, *, by) -> None:
        """Planned as a post (again: one idea may feed several)."""
        self._move(IdeaState.USED, PLANNABLE_IDEA_STATES, by=by)

    def dismiss(self, *, by) -> None:
        self._move(IdeaState.DISMISSED, PLANNABLE_IDEA_STATES, by=by)

    def restore(self, *, by) -> None:
        """Back from dismissed: to `used` if posts came from it, else `new`."""
        back = (
            IdeaState.USED if self.slots.filter(deleted_at__isnull=True).exists() else IdeaState.NEW
        )
        self._move(back, {IdeaState.DISMISSED}, by=by)
