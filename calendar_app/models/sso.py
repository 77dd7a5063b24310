"""Single sign-on (#28): one OpenID Connect provider per workspace, through which its people
sign in ("Sign in with <company>"), and whether passwords still work for its members."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from calendar_app.models.workspaces import Role, Workspace


class SingleSignOn(models.Model):
    """A workspace's OpenID Connect provider. allauth serves it as a SocialApp built at run
    time (accounts/sso.py), so the client secret only ever sits here, encrypted with
    scripe_integration/crypto.py like the Scripe key."""

    workspace = models.OneToOneField(Workspace, models.CASCADE, related_name="single_sign_on")
    # The provider's id in allauth's URLs (/accounts/oidc/<public_id>/login/): not sequential.
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    label = models.CharField(
        _("company name"),
        max_length=100,
        help_text=_('Shown on the log-in page as "Sign in with <company name>".'),
    )
    issuer_url = models.URLField(
        _("issuer URL"),
        max_length=500,
        help_text=_(
            "The provider's issuer; its /.well-known/openid-configuration is read from here."
        ),
    )
    client_id = models.CharField(_("client ID"), max_length=255)
    client_secret_encrypted = models.TextField(editable=False)
    allowed_domains = models.TextField(
        _("allowed email domains"),
        help_text=_("One or more, separated by commas or spaces, e.g. example.com."),
    )
    # Never admin by default: a provider misconfigured to let anyone in must not make admins.
    new_member_role = models.CharField(
        _("role of new members"), max_length=16, choices=Role.choices, default=Role.EDITOR
    )
    enabled = models.BooleanField(_("enabled"), default=False)
    sso_only = models.BooleanField(
        _("single sign-on only"),
        default=False,
        help_text=_(
            "Passwords are refused for this workspace's members; they sign in with the "
            "provider. Site operators (staff) can still use their password."
        ),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("single sign-on provider")
        verbose_name_plural = _("single sign-on providers")

    def __str__(self) -> str:
        return f"{self.label} ({self.issuer_url})"

    @property
    def domains(self) -> list[str]:
        return parse_domains(self.allowed_domains)

    def allows_email(self, email: str) -> bool:
        domain = email.rpartition("@")[2].strip().lower().rstrip(".")
        return bool(domain) and domain in self.domains


def parse_domains(text: str) -> list[str]:
    """The domains an admin typed, lower-case, without a leading '@', in their order."""
    words = text.replace(",", " ").split()
    parts = (word.strip().lower().lstrip("@").rstrip(".") for word in words)
    return list(dict.fromkeys(part for part in parts if part))
