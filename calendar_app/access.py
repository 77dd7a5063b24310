"""Who may see and do what. Every view starts here: objects outside the user's workspaces are
404 (they do not exist for this user), objects inside but beyond the user's role are 403."""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from functools import cached_property
from typing import NamedTuple

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest
from django.utils import timezone

from calendar_app import selectors
from calendar_app.models import Membership, PlannedSlot, Profile, Role, Workspace


class ScripeProblem(NamedTuple):
    """What the banner says about a workspace's Scripe. `blocking`: nothing can be sent until
    an admin acts (a missing or invalid key); otherwise generations wait and retry."""

    membership: Membership
    problem: str
    blocking: bool = True


@dataclass
class Viewer:
    user: object
    memberships: list[Membership]

    @cached_property
    def workspace_ids(self) -> list[int]:
        return [m.workspace_id for m in self.memberships]

    @cached_property
    def broken_keys(self) -> list[ScripeProblem]:
        """Workspaces whose Scripe key stops generation, with the reason; and, for the
        workspace's admins only, a Scripe that has not answered lately."""
        broken = []
        for membership in self.memberships:
            scripe = getattr(membership.workspace, "scripe", None)
            if scripe is None or scripe.key_state == "missing":
                broken.append(ScripeProblem(membership, "has no Scripe API key yet"))
            elif scripe.key_state == "invalid":
                reason = scripe.key_error_message or "Scripe refuses it"
                broken.append(ScripeProblem(membership, f"has an invalid Scripe key: {reason}"))
            if scripe and scripe.unreachable_since and membership.has_role(Role.ADMIN):
                since = timezone.localtime(scripe.unreachable_since, self.zone)
                when = f"{since:%H:%M}"
                if since.date() != timezone.localtime(timezone=self.zone).date():
                    when += f" on {since:%-d %b}"
                problem = (
                    f"Scripe at {scripe.base_url} has not answered since {when}; "
                    "generations wait and retry."
                )
                broken.append(ScripeProblem(membership, problem, blocking=False))
        return broken

    @cached_property
    def managed_workspace_ids(self) -> list[int]:
        return [w.pk for w in self.workspaces_with(Role.MANAGER)]

    @cached_property
    def editable_workspace_ids(self) -> list[int]:
        return [w.pk for w in self.workspaces_with(Role.EDITOR)]

    def workspaces_with(self, role: str) -> list[Workspace]:
        return [m.workspace for m in self.memberships if m.has_role(role)]

    def can(self, role: str, workspace_id: int) -> bool:
        return any(m.workspace_id == workspace_id and m.has_role(role) for m in self.memberships)

    def require(self, role: str, workspace_id: int, action: str) -> None:
        if not self.can(role, workspace_id):
            raise PermissionDenied(f"Only a {Role(role).label.lower()} can {action}.")

    @cached_property
    def zone(self) -> zoneinfo.ZoneInfo:
        """The user's own zone, else their first workspace's, else UTC."""
        profile = Profile.objects.filter(user=self.user).first()
        name = profile.time_zone if profile and profile.time_zone else ""
        if not name and self.memberships:
            name = self.memberships[0].workspace.time_zone
        return zoneinfo.ZoneInfo(name or "UTC")


def viewer_for(request: HttpRequest) -> Viewer:
    if not hasattr(request, "_viewer"):
        memberships = list(
            Membership.objects.filter(user=request.user)
            .select_related("workspace__scripe")
            .order_by("workspace__name")
        )
        request._viewer = Viewer(request.user, memberships)
    return request._viewer


def slot_for(
    request: HttpRequest, public_id, *, to: str | None = None, role: str = Role.EDITOR
) -> PlannedSlot:
    """The slot, if it is in one of the user's workspaces (else 404); with `to` (what the user
    wants to do, in words), also checks their role there (else 403 saying who may)."""
    viewer = viewer_for(request)
    slot = selectors.slot_for_viewer(viewer, public_id)
    if slot is None:
        raise Http404("No such post.")
    if to is not None:
        viewer.require(role, slot.workspace_id, to)
    return slot
