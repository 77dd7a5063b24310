"""The Webhooks page's form: widgets and labels only; the rules are the service's."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from calendar_app.models import WebhookEvent


class EndpointForm(forms.Form):
    url = forms.CharField(
        label=_("Address"),
        max_length=500,
        required=False,
        widget=forms.URLInput(attrs={"placeholder": "https://example.com/hooks/calendar"}),
        help_text=_("An https address on the public internet; events are POSTed to it as JSON."),
    )
    description = forms.CharField(
        label=_("Description"),
        max_length=200,
        required=False,
        help_text=_("What it feeds, for you."),
    )
    events = forms.MultipleChoiceField(
        label=_("Events"),
        choices=[(value, f"{value}: {label}") for value, label in WebhookEvent.choices],
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    @classmethod
    def of(cls, endpoint) -> EndpointForm:
        return cls(
            initial={
                "url": endpoint.url,
                "description": endpoint.description,
                "events": endpoint.events,
            }
        )
