"""Invitations (#28): managers and admins invite a person by email with a role never above
their own; the link works once, for seven days; resending makes a new link (the old one stops)
and revoking stops it. Accepting makes the membership with the invitation's role, for a new
account (name and password) or a person who signs in. `invitations_accept_for_email` is the
hook single sign-on calls for a person whose verified email was invited.

The link's secret is random (`secrets`) and stored only as its SHA-256, like API tokens; the
email goes out in the request that made it, as the account emails do, so the inviter sees at
once when it could not be sent (and may resend)."""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from calendar_app.access import Viewer
from calendar_app.core.refusals import Refusal
from calendar_app.models import (
    INVITATION_DAYS,
    ROLE_RANK,
    Invitation,
    InvitationState,
    Membership,
    Role,
    Workspace,
    invitation_expiry,
    person_name,
)

logger = logging.getLogger(__name__)

State = InvitationState


def invitation_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _new_secret() -> tuple[str, str]:
    secret = secrets.token_urlsafe(32)
    return secret, invitation_hash(secret)


@dataclass(frozen=True)
class Sent:
    """An invitation and whether its email went out (`error` says why not)."""

    invitation: Invitation
    resent: bool
    error: str = ""


def invitation_link(secret: str) -> str:
    base = settings.EMAIL_LINK_BASE_URL.rstrip("/")
    return base + reverse("invitation", args=[secret])


def _email(invitation: Invitation, secret: str, inviter) -> str:
    """Sends the invitation's email; returns "" or why it failed (the row keeps sent_at empty,
    and the team page offers Resend)."""
    body = _(
        "%(inviter)s invites you to plan LinkedIn posts with %(workspace)s in %(product)s, "
        "as %(role)s.\n\nAccept the invitation (the link works once, until %(until)s UTC):\n"
        "%(link)s\n\nIf you did not expect this, ignore this email; nothing happens.\n"
    ) % {
        "inviter": person_name(inviter) if inviter else _("Someone"),
        "workspace": invitation.workspace.name,
        "product": settings.PRODUCT_NAME,
        "role": invitation.get_role_display().lower(),
        "until": f"{invitation.expires_at:%d %b %Y %H:%M}",
        "link": invitation_link(secret),
    }
    subject = _("Join %(workspace)s") % {"workspace": invitation.workspace.name}
    message = EmailMessage(
        subject=f"[{settings.PRODUCT_NAME}] {subject}"[:200], body=body, to=[invitation.email]
    )
    try:
        message.send()
    except Exception as error:  # whatever the backend raised, the inviter is told
        logger.warning("invitation email %s failed: %s", invitation.pk, type(error).__name__)
        return f"{type(error).__name__}: {error}"[:200]
    Invitation.objects.filter(pk=invitation.pk).update(sent_at=timezone.now())
    invitation.sent_at = timezone.now()
    return ""


def _check_role(viewer: Viewer, workspace: Workspace, role: str) -> None:
    if role not in Role.values:
        raise Refusal(fields={"role": _("Choose a role.")})
    mine = next(m for m in viewer.memberships if m.workspace_id == workspace.pk)
    if ROLE_RANK[Role(role)] > ROLE_RANK[Role(mine.role)]:
        raise Refusal(
            fields={
                "role": _("You can invite people as %(role)s at most, your own role.")
                % {"role": mine.get_role_display().lower()}
            }
        )


def invitation_create(*, viewer: Viewer, workspace: Workspace, email: str, role: str) -> Sent:
    """Invites `email` to the workspace as `role` and sends the email. A manager or admin
    only (the view checks it with `access`), with a role never above their own; an address
    already in the team is refused; an address already invited gets its invitation again,
    with the role now chosen and a new link (the old one stops working)."""
    viewer.require(Role.MANAGER, workspace.pk, _("invite people"))
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise Refusal(fields={"email": _("Enter an email address.")}) from None
    _check_role(viewer, workspace, role)
    if Membership.objects.filter(workspace=workspace, user__email__iexact=email).exists():
        raise Refusal(
            fields={
                "email": _("%(email)s is already a member of %(workspace)s.")
                % {"email": email, "workspace": workspace.name}
            }
        )
    pending = Invitation.objects.filter(
        workspace=workspace, email=email, state=State.PENDING
    ).first()
    if pending is not None:
        return invitation_resend(viewer=viewer, invitation=pending, role=role)
    secret, hashed = _new_secret()
    try:
        with transaction.atomic():
            invitation = Invitation.objects.create(
                workspace=workspace,
                email=email,
                role=role,
                invited_by=viewer.user,
                token_hash=hashed,
            )
    except IntegrityError:
        # Invited by someone else a moment ago: theirs stands.
        raise Refusal(
            fields={"email": _("%(email)s was invited a moment ago.") % {"email": email}}
        ) from None
    return Sent(invitation, resent=False, error=_email(invitation, secret, viewer.user))


def invitation_resend(*, viewer: Viewer, invitation: Invitation, role: str | None = None) -> Sent:
    """A new link and seven days more for a pending invitation (the old link stops working),
    and its email again; `role` changes its role too, within the viewer's own."""
    viewer.require(Role.MANAGER, invitation.workspace_id, _("invite people"))
    role = role or invitation.role
    _check_role(viewer, invitation.workspace, role)
    secret, hashed = _new_secret()
    expires = invitation_expiry()
    changed = Invitation.objects.filter(pk=invitation.pk, state=State.PENDING).update(
        token_hash=hashed, expires_at=expires, role=role, invited_by=viewer.user, sent_at=None
    )
    if not changed:
        raise Refusal(_("This invitation was accepted or revoked meanwhile."), stale=True)
    invitation.refresh_from_db()
    return Sent(invitation, resent=True, error=_email(invitation, secret, viewer.user))


def invitation_revoke(*, viewer: Viewer, invitation: Invitation) -> None:
    """Stops a pending invitation's link for good."""
    viewer.require(Role.MANAGER, invitation.workspace_id, _("revoke invitations"))
    revoked = Invitation.objects.filter(pk=invitation.pk, state=State.PENDING).update(
        state=State.REVOKED, revoked_at=timezone.now()
    )
    if not revoked:
        raise Refusal(_("This invitation was accepted or revoked already."), stale=True)


# the invitee's side --------------------------------------------------------------------------


class InvitationGone(Refusal):
    """The link cannot be used: unknown, used, revoked or expired (`reason` says which, for
    the page that explains it)."""

    status = 410

    def __init__(self, reason: str, invitation: Invitation | None = None) -> None:
        self.reason = reason
        self.invitation = invitation
        messages = {
            "unknown": _("This invitation link is not valid. Check that you copied all of it."),
            "accepted": _("This invitation was used already; a link works once."),
            "revoked": _("This invitation was withdrawn."),
            "expired": _("This invitation expired; invitations last %(days)s days.")
            % {"days": INVITATION_DAYS},
        }
        super().__init__(messages[reason], status=410)


def invitation_by_secret(secret: str) -> Invitation:
    """The invitation this link's secret opens, if it can still be accepted; else
    `InvitationGone` saying why."""
    invitation = (
        Invitation.objects.select_related("workspace", "invited_by")
        .filter(token_hash=invitation_hash(secret or ""))
        .first()
    )
    if invitation is None:
        raise InvitationGone("unknown")
    if invitation.state != State.PENDING:
        raise InvitationGone(invitation.state, invitation)
    if invitation.is_expired:
        raise InvitationGone("expired", invitation)
    return invitation


def address_owned(*, user, email: str) -> bool:
    """Whether the invited address is this person's: their account's email or one of their
    verified addresses."""
    email = (email or "").strip().lower()
    return (user.email or "").lower() == email or EmailAddress.objects.filter(
        user=user, email__iexact=email, verified=True
    ).exists()


def invitation_accept(*, invitation: Invitation, user) -> Membership:
    """Makes `user` a member of the invitation's workspace with its role, once: the state
    moves pending → accepted with a conditional UPDATE that also checks the expiry, so a link
    used twice (or a revoke a moment before) makes no second member. A person already in the
    workspace keeps the higher of the two roles.

    Only the invited address's owner accepts: a forwarded link (or one read over a shoulder)
    must not let another account in, nor raise a member's role."""
    if not address_owned(user=user, email=invitation.email):
        raise Refusal(
            _(
                "This invitation is for %(email)s, not for the account you are logged in with. "
                "Log out and open the link again, or ask for an invitation to your own address."
            )
            % {"email": invitation.email},
            status=403,
        )
    now = timezone.now()
    with transaction.atomic():
        claimed = Invitation.objects.filter(
            pk=invitation.pk, state=State.PENDING, expires_at__gt=now
        ).update(state=State.ACCEPTED, accepted_at=now, accepted_by=user)
        if not claimed:
            invitation.refresh_from_db()
            reason = invitation.state if invitation.state != State.PENDING else "expired"
            raise InvitationGone(reason, invitation)
        membership, made = Membership.objects.get_or_create(
            user=user, workspace_id=invitation.workspace_id, defaults={"role": invitation.role}
        )
        if not made and ROLE_RANK[Role(invitation.role)] > ROLE_RANK[Role(membership.role)]:
            membership.role = invitation.role
            membership.save(update_fields=["role"])
    return membership


def invitation_sign_up(*, invitation: Invitation, first_name: str, last_name: str, password: str):
    """A new account for the invited address (its username is the address), and the
    membership; the password was checked by the form with the site's validators. Refused
    when the address has an account meanwhile: that person signs in instead."""
    User = get_user_model()
    email = invitation.email
    with transaction.atomic():
        if account_exists(email) or User.objects.filter(username__iexact=email).exists():
            raise Refusal(
                _("An account with %(email)s exists already: sign in to join.") % {"email": email}
            )
        user = User.objects.create_user(
            username=email,
            email=email,
            password=password,
            first_name=first_name.strip(),
            last_name=last_name.strip(),
        )
        # The link reached this mailbox: the address is verified, and allauth's log-in by
        # email and password reset know it.
        EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
        invitation_accept(invitation=invitation, user=user)
    return user


def invitations_accept_for_email(*, user, email: str) -> list[Membership]:
    """For single sign-on: accepts every pending, unexpired invitation for `email` (which the
    identity provider verified) as `user`. Returns the memberships made or kept."""
    email = (email or "").strip().lower()
    waiting = Invitation.objects.filter(
        email=email, state=State.PENDING, expires_at__gt=timezone.now()
    )
    made = []
    for invitation in waiting:
        try:
            made.append(invitation_accept(invitation=invitation, user=user))
        except InvitationGone:
            continue  # revoked or used a moment ago
    return made


def account_exists(email: str) -> bool:
    """Whether someone has an account for this address (they sign in to accept)."""
    User = get_user_model()
    return (
        User.objects.filter(email__iexact=email).exists()
        or EmailAddress.objects.filter(email__iexact=email).exists()
    )
