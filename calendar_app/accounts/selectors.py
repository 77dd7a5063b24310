"""What a person's own settings page reads."""

from __future__ import annotations

from django.db.models import F, Q

from calendar_app.access import Viewer
from calendar_app.models import ApiToken, Profile, Role


def profile_of(user) -> Profile | None:
    """The person's profile (their time zone), if they saved one."""
    return Profile.objects.filter(user=user).first()


def tokens_visible(viewer: Viewer):
    """The viewer's own API tokens and every token of the workspaces they administer; live
    ones first, newest first."""
    admin_of = [w.pk for w in viewer.workspaces_with(Role.ADMIN)]
    return (
        ApiToken.objects.filter(Q(user=viewer.user) | Q(workspace_id__in=admin_of))
        .select_related("user", "workspace")
        .order_by(F("revoked_at").desc(nulls_first=True), "-created_at", "-id")
    )
