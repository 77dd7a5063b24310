"""Workspaces and the people in them: members and their roles, profiles, and the Scripe
projects a workspace plans for."""

from __future__ import annotations

import uuid
import zoneinfo
from functools import cache

from django.conf import settings
from django.db import models
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

# The languages Scripe can WRITE a post in (options.language, chosen per project or post).
# Not the interface language, which is settings.LANGUAGES and Profile.language.
LANGUAGES = [
    ("en", _("English")),
    ("de", _("German")),
    ("fr", _("French")),
    ("es", _("Spanish")),
    ("it", _("Italian")),
    ("nl", _("Dutch")),
    ("pt", _("Portuguese")),
]
PROJECT_COLOURS = 8


@cache
def time_zone_choices() -> list[tuple[str, str]]:
    names = sorted(zoneinfo.available_timezones() - {"localtime", "Factory"})
    return [(name, name.replace("_", " ")) for name in names]


class Workspace(models.Model):
    """A team. It maps to one Scripe workspace (and its key, kept by scripe_integration)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=200)
    time_zone = models.CharField(max_length=64, default="UTC", choices=time_zone_choices)
    review_required = models.BooleanField(
        default=True,
        help_text=_(
            "Managers approve each draft before it is scheduled. Off: direct scheduling, "
            "the generation request itself schedules the post."
        ),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # Insights (#18): drafts are sent to Scripe on their own this many hours before their
    # time, so that review has time (calendar_app/insights/selectors.py, from the sweep).
    auto_generate_hours = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        help_text=_(
            "Have Scripe write each draft this many hours before its time, once, while "
            "the daily spend cap allows. Empty or 0: off."
        ),
    )
    # Review (#17): a second pair of eyes. On, a manager cannot approve a draft they sent back
    # (the current version exists because they asked for it) or edited (review/services.py).
    no_self_approval = models.BooleanField(
        default=False,
        verbose_name=_("No self-approval"),
        help_text=_(
            "A manager cannot approve a draft they requested changes on or edited "
            "themselves; another manager (or a client through a review link) approves it."
        ),
    )
    # Two factors (#28): admins hold the workspace's Scripe key, so a new workspace asks them
    # for a second factor; migration 0030 leaves the workspaces made before it as they were.
    # Whoever must enrol is led through it when they next sign in (accounts/two_factor.py).
    # On for workspaces made from now on; db_default False: rows that existed (and any a
    # previous release writes during a rolling deploy) are off, as their people were never asked.
    require_two_factor_admins = models.BooleanField(
        default=True,
        db_default=False,
        verbose_name=_("Require two-factor for admins"),
        help_text=_(
            "Admins of this workspace enrol an authenticator app or a passkey when they next "
            "sign in, and cannot use the app until they have."
        ),
    )
    require_two_factor_everyone = models.BooleanField(
        default=False,
        db_default=False,
        verbose_name=_("Require two-factor for everyone"),
        help_text=_("Every member enrols a second factor when they next sign in."),
    )
    # The sweep's allowance of Scripe calls for reading posts back (pipeline/sync.py): a
    # bucket refilled at a tenth of the workspace's rate limit per minute, as of the time.
    sync_allowance = models.FloatField(default=0, editable=False)
    sync_allowance_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)


class Role(models.TextChoices):
    EDITOR = "editor", _("Editor")
    MANAGER = "manager", _("Manager")
    ADMIN = "admin", _("Admin")


ROLE_RANK = {Role.EDITOR: 1, Role.MANAGER: 2, Role.ADMIN: 3}


class Membership(models.Model):
    # The team page (#28) names a member in its addresses by this, never the primary key.
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
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
        help_text=_("Blank: the workspace's time zone."),
    )
    # The interface language (settings.LANGUAGES); blank follows the browser's
    # Accept-Language. Emails and notifications to this person are rendered in it too.
    # db_default: a profile the previous release writes while a deploy rolls gets "blank".
    language = models.CharField(
        max_length=8,
        blank=True,
        default="",
        db_default="",
        choices=settings.LANGUAGES,
        help_text=_("Blank: the browser's language."),
    )

    def __str__(self) -> str:
        return f"Profile of {self.user}"


class Project(models.Model):
    """A Scripe project (a LinkedIn profile or page), mirrored by `sync_projects`."""

    class Type(models.TextChoices):
        PERSONAL_BRAND = "PERSONAL_BRAND", _("Personal brand")
        COMPANY_PAGE = "COMPANY_PAGE", _("Company page")

    class Status(models.TextChoices):
        ACTIVE = "ACTIVE", _("Active")
        PAUSED = "PAUSED", _("Paused")
        ARCHIVED = "ARCHIVED", _("Archived")
        ERROR = "ERROR", _("Error")

    # Stored by the sync in a post's warning too, so translated where shown.
    INACTIVE_REASONS = {
        Status.PAUSED: gettext_noop(
            "This project is paused in Scripe; resume it there to plan new posts."
        ),
        Status.ARCHIVED: gettext_noop("This project is archived in Scripe; it takes no new posts."),
        Status.ERROR: gettext_noop(
            "Scripe reports a problem with this project; check it in Scripe."
        ),
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
    # When Scripe's suggestions for the project were last read (#26, pipeline/suggestions.py).
    suggestions_read_at = models.DateTimeField(null=True, blank=True)
    missing_from_scripe = models.BooleanField(
        default=False, help_text=_("The last sync did not find this project in Scripe.")
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
            return _("Scripe no longer lists this project; it takes no new posts.")
        reason = self.INACTIVE_REASONS.get(self.status, "")
        return gettext(reason) if reason else ""

    @property
    def type_label(self) -> str:
        return dict(self.Type.choices).get(self.type, self.type.replace("_", " ").title())


def person_name(user) -> str:
    """How the app names a person: their full name, else their username."""
    return user.get_full_name() or user.get_username()
