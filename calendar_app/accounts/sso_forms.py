"""The single sign-on form an admin fills in; it only parses (accounts/sso.py judges)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from calendar_app.models import Role


class SingleSignOnForm(forms.Form):
    label = forms.CharField(
        label=_("Company name"),
        required=False,
        help_text=_('The log-in page shows "Sign in with <company name>".'),
    )
    issuer_url = forms.CharField(
        label=_("Issuer URL"),
        required=False,
        help_text=_(
            "Your identity provider's issuer, e.g. https://login.example.com/realms/acme; "
            "its /.well-known/openid-configuration must answer there."
        ),
    )
    client_id = forms.CharField(label=_("Client ID"), required=False)
    client_secret = forms.CharField(
        label=_("Client secret"),
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False),
    )
    allowed_domains = forms.CharField(
        label=_("Allowed email domains"),
        required=False,
        help_text=_("Only these addresses may sign in, separated by commas: example.com."),
    )
    new_member_role = forms.ChoiceField(
        label=_("Role of new members"),
        choices=Role.choices,
        initial=Role.EDITOR,
        help_text=_(
            "People who sign in for the first time join with this role, unless an invitation "
            "says otherwise."
        ),
    )
    enabled = forms.BooleanField(
        label=_("On: offer “Sign in with …” on the log-in page"), required=False
    )
    sso_only = forms.BooleanField(
        label=_("Single sign-on only"),
        required=False,
        help_text=_(
            "Members can no longer sign in or reset a password with a password; site "
            "operators (staff) still can."
        ),
    )
