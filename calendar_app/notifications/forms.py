"""Email choices: one per kind of notification; the form only parses, the services store."""

from __future__ import annotations

from django import forms

from calendar_app.models import EmailChoice, NotificationKind
from calendar_app.notifications import services as notifications


class NotificationPreferencesForm(forms.Form):
    """One email choice per kind; only parses (notifications.preferences_update stores)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for kind in NotificationKind:
            self.fields[kind.value] = forms.ChoiceField(
                label=kind.label, choices=EmailChoice.choices
            )


def preferences_form(user, data=None) -> NotificationPreferencesForm:
    return NotificationPreferencesForm(data, initial=notifications.preferences_for(user))
