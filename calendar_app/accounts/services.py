"""A person's own settings: what they change about themselves."""

from __future__ import annotations

from calendar_app.models import (
    Profile,
)


def profile_update(*, user, time_zone: str, language: str | None = None) -> str:
    """The user's own time zone ("" for the workspace's) and, when given, interface language
    ("" for the browser's); the profile is made on first use."""
    defaults = {"time_zone": time_zone}
    if language is not None:
        defaults["language"] = language
    Profile.objects.update_or_create(user=user, defaults=defaults)
    return time_zone
