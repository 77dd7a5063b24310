"""A person's own settings: their time zone and language, their personal calendar feed, their
API tokens; the team page's invitation and role forms, and the invitee's new account."""

from __future__ import annotations

import json
from dataclasses import dataclass

from allauth.account.adapter import get_adapter as get_account_adapter
from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from calendar_app.models import ROLE_RANK, SCOPES_BY_ROLE, Role


@dataclass(frozen=True)
class ScopeOption:
    """One scope's checkbox: offered (`allowed`) when the role in the chosen workspace may
    give it; otherwise drawn disabled with `hint` saying who may."""

    value: str
    label: str
    checked: bool
    allowed: bool
    hint: str


# One whole sentence per lowest role that may give a scope (a role above may give what one
# below may), since German cannot build it from the roles' names.
WHO_MAY_GIVE = {
    Role.EDITOR: _("Only editors, managers and admins of the chosen workspace may give it."),
    Role.MANAGER: _("Only managers and admins of the chosen workspace may give it."),
    Role.ADMIN: _("Only admins of the chosen workspace may give it."),
}


def _who_may_give(scope: str) -> str:
    lowest = next(role for role in Role if scope in SCOPES_BY_ROLE[role])
    return str(WHO_MAY_GIVE[lowest])


class ProfileForm(forms.Form):
    time_zone = forms.ChoiceField(
        label=_("Time zone"),
        required=False,
        help_text=_("Leave empty to use your workspace's time zone."),
    )
    language = forms.ChoiceField(
        label=_("Language"),
        required=False,
        choices=[("", _("Your browser's language")), *settings.LANGUAGES],
        help_text=_("The language of the app and of the emails it sends you."),
    )

    def __init__(self, *args, zones, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["time_zone"].choices = [("", _("Workspace default")), *zones]


class FeedForm(forms.Form):
    action = forms.ChoiceField(
        choices=[
            ("enable", _("Turn on")),
            ("regenerate", _("New address")),
            ("revoke", _("Turn off")),
        ]
    )


class TokenForm(forms.Form):
    """A new API token; `tokens.token_create` holds the rules (scopes within the role)."""

    name = forms.CharField(
        required=False,
        help_text=_("What will use it, so you know which to revoke (“HubSpot sync”)."),
    )
    workspace = forms.ChoiceField()
    scopes = forms.MultipleChoiceField(
        choices=[
            ("read", _("Read: the plan, projects and labels")),
            ("plan", _("Plan: plan, change, move and delete posts; generate")),
            ("review", _("Review: decide on drafts (managers)")),
            ("admin", _("Admin: the workspace's settings (admins)")),
        ],
        initial=["read"],
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    expires_in_days = forms.TypedChoiceField(
        label=_("Expires"),
        choices=[
            ("7", _("In 7 days")),
            ("30", _("In 30 days")),
            ("90", _("In 90 days")),
            ("365", _("In a year")),
            ("", _("Never")),
        ],
        coerce=int,
        empty_value=None,
        initial="90",
        required=False,
    )

    def __init__(self, *args, memberships, **kwargs) -> None:
        kwargs.setdefault("auto_id", "token-%s")
        super().__init__(*args, **kwargs)
        self.fields["workspace"].choices = [
            (
                str(m.workspace.public_id),
                _("%(workspace)s (as %(role)s)")
                % {"workspace": m.workspace.name, "role": m.get_role_display()},
            )
            for m in memberships
        ]
        # The scopes each workspace's role may give: the page offers only those, and follows
        # the workspace picked (static/js/tokens.js). token_create still checks them.
        self.scopes_by_workspace = {
            str(m.workspace.public_id): [scope.value for scope in SCOPES_BY_ROLE[Role(m.role)]]
            for m in memberships
        }
        self.fields["workspace"].widget.attrs["data-scopes"] = json.dumps(self.scopes_by_workspace)

    def scope_options(self) -> list[ScopeOption]:
        """The scope checkboxes for the workspace shown as chosen (the first one at first)."""
        chosen = self["workspace"].value() or next(iter(self.scopes_by_workspace), "")
        allowed = self.scopes_by_workspace.get(str(chosen), [])
        checked = self["scopes"].value() or []
        return [
            ScopeOption(
                value=value,
                label=str(label),
                checked=value in checked and value in allowed,
                allowed=value in allowed,
                hint=_who_may_give(value),
            )
            for value, label in self.fields["scopes"].choices
        ]


class TwoFactorPolicyForm(forms.Form):
    """A workspace's two-factor requirement, as its admins set it on the settings page."""

    admins = forms.BooleanField(required=False, label=_("Require two-factor for admins"))
    everyone = forms.BooleanField(required=False, label=_("Require two-factor for everyone"))


class InviteForm(forms.Form):
    """An invitation; `invitations.invitation_create` holds the rules (role within one's own,
    not a member already)."""

    email = forms.EmailField(label=_("Email"), max_length=254)
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices, initial=Role.EDITOR)

    def __init__(self, *args, top_role: str, **kwargs) -> None:
        kwargs.setdefault("auto_id", "invite-%s")
        super().__init__(*args, **kwargs)
        # Offered: the roles up to one's own; the service refuses a higher one all the same.
        self.fields["role"].choices = [
            (value, label)
            for value, label in Role.choices
            if ROLE_RANK[Role(value)] <= ROLE_RANK[Role(top_role)]
        ]


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)


class InvitationSignUpForm(forms.Form):
    """The invitee's new account: a name and a password the site's validators accept."""

    first_name = forms.CharField(label=_("First name"), max_length=150)
    last_name = forms.CharField(label=_("Last name"), max_length=150, required=False)
    password1 = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label=_("Password again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args, email: str, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.email = email

    def clean(self):
        data = super().clean()
        first, second = data.get("password1"), data.get("password2")
        if first and second and first != second:
            self.add_error("password2", _("The two passwords differ."))
        elif first:
            # The validators see who the password is for (a password like the name is refused).
            who = get_user_model()(
                username=self.email,
                email=self.email,
                first_name=data.get("first_name", ""),
                last_name=data.get("last_name", ""),
            )
            try:
                # allauth's check: the site's validators (AUTH_PASSWORD_VALIDATORS) and its own.
                get_account_adapter().clean_password(first, user=who)
            except ValidationError as error:
                self.add_error("password1", error)
        return data
