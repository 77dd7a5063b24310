"""What a person's own settings page reads."""

from __future__ import annotations

from calendar_app.models import Profile


def profile_of(user) -> Profile | None:
    """The person's profile (their time zone), if they saved one."""
    return Profile.objects.filter(user=user).first()
