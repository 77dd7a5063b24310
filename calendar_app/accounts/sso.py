"""Single sign-on (#28): a workspace's OpenID Connect provider, its rules and who it lets in.

Admins save the provider here (the client secret is encrypted with scripe_integration/crypto.py
and never shown back); allauth's openid_connect provider runs the flow with the app built from
it at run time (accounts/sso_adapter.py). Signing in through it, the email must be verified by
the provider and in one of the allowed domains; a new person becomes a member with the chosen
role (or the role of their pending invitation). "SSO only" refuses passwords to the
workspace's members, except site staff, so an operator can always get in.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from calendar_app.accounts.invitations import invitations_accept_for_email
from calendar_app.core.refusals import Refusal
from calendar_app.models import Membership, Role, SingleSignOn, Workspace, parse_domains
from scripe_integration import crypto
from scripe_integration.destinations import DestinationRefused, NameNotFound, check_url

# A domain as people type it: labels of letters, digits and hyphens, with a dot.
DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


def local_allowed() -> bool:
    return bool(getattr(settings, "SSO_ALLOW_LOCAL_HOSTS", False))


def sso_of(workspace: Workspace) -> SingleSignOn | None:
    return SingleSignOn.objects.filter(workspace=workspace).first()


def sso_enabled() -> list[SingleSignOn]:
    """The providers the log-in page offers, by their label."""
    return list(
        SingleSignOn.objects.filter(enabled=True).select_related("workspace").order_by("label")
    )


def sso_secret(provider: SingleSignOn) -> str:
    return crypto.decrypt(provider.client_secret_encrypted)


def sso_validate(
    *,
    label: str,
    issuer_url: str,
    client_id: str,
    allowed_domains: str,
    new_member_role: str,
    client_secret: str,
    has_secret: bool,
    enabled: bool,
    sso_only: bool,
) -> dict:
    """The one check of what an admin typed; field-keyed sentences."""
    errors = {}
    label = (label or "").strip()
    issuer_url = (issuer_url or "").strip().rstrip("/")
    client_id = (client_id or "").strip()
    if not label:
        errors["label"] = _("Enter the name people know the company by, e.g. Acme.")
    elif len(label) > 100:
        errors["label"] = _("Keep the name to 100 characters.")
    if not issuer_url:
        errors["issuer_url"] = _("Enter the provider's issuer URL.")
    elif len(issuer_url) > 500:
        errors["issuer_url"] = _("Use an address of at most 500 characters.")
    else:
        try:
            check_url(issuer_url, allow_local=local_allowed())
        # scripe_integration says why in English; the sentences are said here, translated.
        except NameNotFound:
            errors["issuer_url"] = _("We could not find %(host)s; check the address.") % {
                "host": urlsplit(issuer_url).hostname
            }
        except DestinationRefused:
            errors["issuer_url"] = _("Use an https address on the public internet.")
    if not client_id:
        errors["client_id"] = _("Enter the client ID the provider gave this app.")
    elif len(client_id) > 255:
        errors["client_id"] = _("Use a client ID of at most 255 characters.")
    if not (client_secret or "").strip() and not has_secret:
        errors["client_secret"] = _("Enter the client secret the provider gave this app.")
    domains = parse_domains(allowed_domains or "")
    wrong = [domain for domain in domains if not DOMAIN.match(domain)]
    if not domains:
        errors["allowed_domains"] = _("Enter at least one email domain, e.g. example.com.")
    elif wrong:
        errors["allowed_domains"] = _("%(domain)s is not a domain name.") % {"domain": wrong[0]}
    if new_member_role not in Role.values:
        errors["new_member_role"] = _("Choose a role from the list.")
    if sso_only and not enabled:
        errors["sso_only"] = _(
            "Turn single sign-on on as well: otherwise nobody could sign in with a password "
            "or with the provider."
        )
    if errors:
        raise Refusal(fields=errors)
    return {
        "label": label,
        "issuer_url": issuer_url,
        "client_id": client_id,
        "allowed_domains": ", ".join(domains),
        "new_member_role": new_member_role,
        "enabled": enabled,
        "sso_only": sso_only,
    }


def sso_save(
    *,
    workspace: Workspace,
    label: str,
    issuer_url: str,
    client_id: str,
    client_secret: str = "",
    allowed_domains: str,
    new_member_role: str = Role.EDITOR,
    enabled: bool = False,
    sso_only: bool = False,
) -> SingleSignOn:
    """Creates or updates the workspace's provider. A blank secret keeps the stored one."""
    existing = sso_of(workspace)
    fields = sso_validate(
        label=label,
        issuer_url=issuer_url,
        client_id=client_id,
        allowed_domains=allowed_domains,
        new_member_role=new_member_role,
        client_secret=client_secret,
        has_secret=existing is not None,
        enabled=enabled,
        sso_only=sso_only,
    )
    provider = existing or SingleSignOn(workspace=workspace)
    for name, value in fields.items():
        setattr(provider, name, value)
    if (client_secret or "").strip():
        provider.client_secret_encrypted = crypto.encrypt(client_secret.strip())
    provider.save()
    return provider


def sso_delete(*, provider: SingleSignOn) -> None:
    provider.delete()


def sso_only_provider_of(user) -> SingleSignOn | None:
    """The "SSO only" provider that locks this person's password, if any (never for staff)."""
    if user is None or not user.pk or user.is_staff or user.is_superuser:
        return None
    return (
        SingleSignOn.objects.filter(enabled=True, sso_only=True, workspace__memberships__user=user)
        .order_by("label")
        .first()
    )


def sso_password_refusal(user) -> str | None:
    """Why this person may not use a password (a member of an "SSO only" workspace), or None.
    Site staff are exempt, so an operator can always get in, e.g. to fix a broken provider."""
    if user is None or not user.pk or user.is_staff or user.is_superuser:
        return None
    locked = (
        SingleSignOn.objects.filter(enabled=True, sso_only=True, workspace__memberships__user=user)
        .order_by("label")
        .first()
    )
    if locked is None:
        return None
    return _(
        "%(company)s signs in with single sign-on: use the “Sign in with %(company)s” button "
        "instead of a password."
    ) % {"company": locked.label}


def sso_email_refusal(*, provider: SingleSignOn, email: str, verified: bool) -> str | None:
    """Why this email may not sign in through the provider, or None."""
    if not email:
        return _("%(company)s did not tell us your email address, so we cannot sign you in.") % {
            "company": provider.label
        }
    if not verified:
        return _(
            "%(company)s has not verified your email address %(email)s; verify it there, then "
            "sign in again."
        ) % {"company": provider.label, "email": email}
    if not provider.allows_email(email):
        return _(
            "%(email)s cannot sign in with %(company)s: its email domain is not one the "
            "workspace allows. Ask an admin of the workspace."
        ) % {"company": provider.label, "email": email}
    return None


def sso_user_for_email(email: str):
    """The existing account with this email, which a verified sign-in may connect to."""
    return get_user_model().objects.filter(email__iexact=email).first()


def sso_connect_refusal(*, provider: SingleSignOn, user) -> str | None:
    """Why the provider may not take over this existing account, or None. A workspace's
    admin chooses its provider and its domains, so the provider may only vouch for accounts
    within the admin's reach (the Django admin's rule, admin.accounts_in_reach): members of
    this workspace only, never site staff, nor an account of the site in no workspace."""
    workspaces = set(Membership.objects.filter(user=user).values_list("workspace", flat=True))
    operator = user.is_staff or user.is_superuser
    if user.is_active and not operator and workspaces == {provider.workspace_id}:
        return None
    return _(
        "An account with the email %(email)s already exists outside %(company)s, so "
        "%(company)s cannot sign in to it. Log in with its password instead."
    ) % {"email": user.email, "company": provider.label}


def sso_member_join(*, provider: SingleSignOn, user) -> Membership:
    """Makes the person a member of the provider's workspace: with their pending invitation's
    role, else the provider's role for new members. An existing membership keeps its role."""
    with transaction.atomic():
        membership = Membership.objects.filter(user=user, workspace=provider.workspace).first()
        if membership is not None:
            return membership
        # The provider vouched for the address: its pending invitations (to this workspace or
        # others) are accepted with their roles, which win over the provider's default.
        invitations_accept_for_email(user=user, email=user.email)
        membership, _created = Membership.objects.get_or_create(
            user=user,
            workspace=provider.workspace,
            defaults={"role": provider.new_member_role},
        )
    return membership


def sso_by_workspace(workspaces: list[Workspace]) -> list[tuple[Workspace, SingleSignOn | None]]:
    """Each workspace with its provider (or None), in one query."""
    found = {
        row.workspace_id: row
        for row in SingleSignOn.objects.filter(workspace__in=[w.pk for w in workspaces])
    }
    return [(workspace, found.get(workspace.pk)) for workspace in workspaces]


def sso_enabled_by_public_id(public_id: str) -> SingleSignOn | None:
    try:
        return SingleSignOn.objects.filter(enabled=True, public_id=public_id).first()
    except ValidationError:  # not a UUID
        return None


def sso_failed_sentence(company: str) -> str:
    """Said on the log-in page when the provider did not answer as expected."""
    return _(
        "Signing in with %(company)s did not work: it did not answer as expected. Try again "
        "in a minute; if it keeps failing, ask your workspace's admin to check its single "
        "sign-on settings."
    ) % {"company": company}
