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
