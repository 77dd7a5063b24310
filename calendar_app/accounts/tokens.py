"""Personal access tokens for the REST API (#27): made on the settings page, shown once,
stored as a SHA-256 hash, revoked by their person or by an admin of their workspace. A
request that carries one acts as its person in its workspace, with its scopes cut to what
the person's role allows at that moment."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from calendar_app.access import Viewer, viewer_of
from calendar_app.core.refusals import Refusal
from calendar_app.models import SCOPES_BY_ROLE, ApiToken, Role, Scope, Workspace

# A recognisable prefix: secret scanners (and people) can tell what leaked, and where from.
PREFIX = "scal_"
NAME_MAX = 80
# What the settings page offers; None: the token does not expire.
EXPIRY_DAYS = (7, 30, 90, 365, None)
# last_used_at is written at most this often per token: a busy client is not a write a call.
LAST_USED_STEP = timedelta(minutes=1)


def token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def scopes_allowed(role: str) -> tuple[str, ...]:
    return tuple(SCOPES_BY_ROLE[Role(role)])


@dataclass(frozen=True)
class MadeToken:
    token: ApiToken
    # The only time the secret exists outside the client: it is not stored.
    secret: str


def token_create(
    *,
    viewer: Viewer,
    workspace: Workspace,
    name: str,
    scopes,
    expires_in_days: int | None,
) -> MadeToken:
    """A new token for the viewer in one of their workspaces, with scopes their role there
    allows. Refuses (with field sentences) a missing or long name, no scope, a scope above
    the role and an expiry the page does not offer."""
    membership = next((m for m in viewer.memberships if m.workspace_id == workspace.pk), None)
    problems: dict[str, str] = {}
    name = " ".join((name or "").split())
    if not name:
        problems["name"] = _("Give the token a name, such as the tool that will use it.")
    elif len(name) > NAME_MAX:
        problems["name"] = _("Keep the name to %(max)s characters.") % {"max": NAME_MAX}
    chosen = [s for s in Scope.values if s in set(scopes or ())]
    unknown = set(scopes or ()) - set(Scope.values)
    if membership is None:
        problems["workspace"] = _("Pick one of your workspaces.")
    elif unknown:
        problems["scopes"] = _("Pick scopes from the list.")
    elif not chosen:
        problems["scopes"] = _("Pick at least one scope; read lets it see the plan.")
    else:
        allowed = scopes_allowed(membership.role)
        above = [s for s in chosen if s not in allowed]
        if above:
            role = membership.get_role_display().lower()
            if role[0] in "aeiou":
                said = _("As an %(role)s you can give a token only %(allowed)s; not %(above)s.")
            else:
                said = _("As a %(role)s you can give a token only %(allowed)s; not %(above)s.")
            problems["scopes"] = said % {
                "role": role,
                "allowed": ", ".join(allowed),
                "above": ", ".join(above),
            }
    if expires_in_days not in EXPIRY_DAYS:
        problems["expires_in_days"] = _("Pick one of the expiry choices.")
    if problems:
        raise Refusal(fields=problems)
    secret = PREFIX + secrets.token_urlsafe(32)
    now = timezone.now()
    token = ApiToken.objects.create(
        user=viewer.user,
        workspace=workspace,
        name=name,
        scopes=",".join(chosen),
        token_hash=token_hash(secret),
        hint=secret[len(PREFIX) : len(PREFIX) + 6],
        created_at=now,
        expires_at=now + timedelta(days=expires_in_days) if expires_in_days else None,
    )
    return MadeToken(token, secret)


def token_revoke(*, token: ApiToken) -> bool:
    """Stops the token at once; False when it was revoked already (by its person or an
    admin, whoever was first)."""
    now = timezone.now()
    revoked = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=now)
    if revoked:
        token.revoked_at = now
    return bool(revoked)


@dataclass(frozen=True)
class TokenUse:
    """Who a request acts as: the token's person, seen only in the token's workspace, and the
    scopes left once the role's limit is applied."""

    token: ApiToken
    viewer: Viewer
    scopes: frozenset[str]
    role: str

    def allows(self, scope: str) -> bool:
        return scope in self.scopes


def token_authenticate(secret: str) -> TokenUse | None:
    """The use of a live token with this secret, or None (unknown, revoked, expired, or its
    person no longer in its workspace). Notes when it was used, at most once a minute."""
    if not secret.startswith(PREFIX):
        return None
    token = (
        ApiToken.objects.usable()
        .select_related("user", "workspace")
        .filter(token_hash=token_hash(secret))
        .first()
    )
    if token is None or not token.user.is_active:
        return None
    viewer = viewer_of(token.user)
    # The token speaks for its person in its own workspace only.
    viewer.memberships = [m for m in viewer.memberships if m.workspace_id == token.workspace_id]
    if not viewer.memberships:
        return None
    role = viewer.memberships[0].role
    scopes = frozenset(token.scope_list) & frozenset(scopes_allowed(role))
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_STEP:
        ApiToken.objects.filter(pk=token.pk).filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_STEP)
        ).update(last_used_at=now)
        token.last_used_at = now
    return TokenUse(token, viewer, scopes, role)
