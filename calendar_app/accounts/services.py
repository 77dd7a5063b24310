"""A person's own settings: what they change about themselves."""

from __future__ import annotations

from calendar_app.models import (
    Profile,
    Workspace,
)


def profile_update(*, user, time_zone: str, language: str | None = None) -> str:
    """The user's own time zone ("" for the workspace's) and, when given, interface language
    ("" for the browser's); the profile is made on first use."""
    defaults = {"time_zone": time_zone}
    if language is not None:
        defaults["language"] = language
    Profile.objects.update_or_create(user=user, defaults=defaults)
    return time_zone


def workspace_two_factor_update(*, workspace: Workspace, admins: bool, everyone: bool) -> None:
    """Whether the workspace requires a second factor of its admins, or of everyone. Those it
    newly asks are led to enrol when they next sign in (accounts/two_factor.py)."""
    Workspace.objects.filter(pk=workspace.pk).update(
        require_two_factor_admins=admins, require_two_factor_everyone=everyone
    )
    workspace.require_two_factor_admins = admins
    workspace.require_two_factor_everyone = everyone
