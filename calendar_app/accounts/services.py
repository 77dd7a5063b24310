"""A person's own settings: what they change about themselves."""

from __future__ import annotations

from calendar_app.models import (
    Profile,
)


def profile_update(*, user, time_zone: str) -> str:
    """The user's own time zone ("" for the workspace's); the profile is made on first use."""
    Profile.objects.update_or_create(user=user, defaults={"time_zone": time_zone})
    return time_zone
