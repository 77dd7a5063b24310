"""The team (#28): who is in a workspace and with what role. Admins change a member's role or
remove them; the workspace always keeps one admin. A removed person's posts, comments and
decisions stay, attributed to them (they reference the person, not the membership); their API
tokens for the workspace stop."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from calendar_app.access import Viewer
from calendar_app.core.refusals import Refusal
from calendar_app.models import ApiToken, Invitation, InvitationState, Membership, Role


def team_members(workspace_id: int):
    """The workspace's members with their people, admins first, then by name."""
    rank = {Role.ADMIN: 0, Role.MANAGER: 1, Role.EDITOR: 2}
    members = list(Membership.objects.filter(workspace_id=workspace_id).select_related("user"))
    return sorted(
        members,
        key=lambda m: (
            rank[Role(m.role)],
            (m.user.get_full_name() or m.user.get_username()).lower(),
        ),
    )


def invitations_pending(workspace_id: int):
    """The workspace's invitations not yet accepted or revoked (expired ones too, to resend),
    newest first."""
    return Invitation.objects.filter(
        workspace_id=workspace_id, state=InvitationState.PENDING
    ).select_related("invited_by")


def _keeps_an_admin(membership: Membership) -> None:
    """Refuses when `membership` is its workspace's last admin. The admin rows are locked, so
    of two admins demoting each other at once, the second sees the first's change."""
    admins = list(
        Membership.objects.select_for_update()
        .filter(workspace_id=membership.workspace_id, role=Role.ADMIN)
        .values_list("pk", flat=True)
    )
    if admins == [membership.pk]:
        raise Refusal(
            _("%(workspace)s needs at least one admin: make someone else admin first.")
            % {"workspace": membership.workspace.name}
        )


def membership_role_change(*, viewer: Viewer, membership: Membership, role: str) -> bool:
    """Gives a member another role (admins only). The last admin keeps theirs. Returns
    whether anything changed."""
    viewer.require(Role.ADMIN, membership.workspace_id, _("change roles"))
    if role not in Role.values:
        raise Refusal(fields={"role": _("Choose a role.")})
    with transaction.atomic():
        current = Membership.objects.select_for_update().filter(pk=membership.pk).first()
        if current is None:
            raise Refusal(_("This person was removed from the workspace meanwhile."), stale=True)
        if current.role == role:
            return False
        if current.role == Role.ADMIN:
            _keeps_an_admin(current)
        # Conditional on the role the admin saw, so a change made meanwhile is not overwritten.
        changed = Membership.objects.filter(pk=current.pk, role=current.role).update(role=role)
    membership.role = role
    return bool(changed)


def membership_remove(*, viewer: Viewer, membership: Membership) -> None:
    """Removes a member from the workspace (admins only; an admin may remove themselves
    unless they are the last). Their posts stay, attributed; their tokens here stop."""
    viewer.require(Role.ADMIN, membership.workspace_id, _("remove people"))
    with transaction.atomic():
        current = Membership.objects.select_for_update().filter(pk=membership.pk).first()
        if current is None:
            return
        if current.role == Role.ADMIN:
            _keeps_an_admin(current)
        current.delete()
        ApiToken.objects.filter(
            user_id=current.user_id, workspace_id=current.workspace_id, revoked_at__isnull=True
        ).update(revoked_at=timezone.now())
