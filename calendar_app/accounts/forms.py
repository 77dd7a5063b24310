"""A person's own settings: their time zone and their personal calendar feed."""

from __future__ import annotations

from django import forms


class ProfileForm(forms.Form):
    time_zone = forms.ChoiceField(
        required=False, help_text="Leave empty to use your workspace's time zone."
    )

    def __init__(self, *args, zones, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["time_zone"].choices = [("", "Workspace default"), *zones]


class FeedForm(forms.Form):
    action = forms.ChoiceField(
        choices=[("enable", "Turn on"), ("regenerate", "New address"), ("revoke", "Turn off")]
    )


class TokenForm(forms.Form):
    """A new API token; `tokens.token_create` holds the rules (scopes within the role)."""

    name = forms.CharField(
        required=False,
        help_text="What will use it, so you know which to revoke (“HubSpot sync”).",
    )
    workspace = forms.ChoiceField()
    scopes = forms.MultipleChoiceField(
        choices=[
            ("read", "Read: the plan, projects and labels"),
            ("plan", "Plan: plan, change, move and delete posts; generate"),
            ("review", "Review: decide on drafts (managers)"),
            ("admin", "Admin: the workspace's settings (admins)"),
        ],
        initial=["read"],
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    expires_in_days = forms.TypedChoiceField(
        label="Expires",
        choices=[
            ("7", "In 7 days"),
            ("30", "In 30 days"),
            ("90", "In 90 days"),
            ("365", "In a year"),
            ("", "Never"),
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
            (str(m.workspace.public_id), f"{m.workspace.name} (as {m.get_role_display().lower()})")
            for m in memberships
        ]
