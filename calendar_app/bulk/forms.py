"""The bulk action bar's one form: the action, which posts, and what the action needs."""

from __future__ import annotations

from django import forms

from calendar_app.models import BulkAction


class BulkForm(forms.Form):
    """The action bar. `scope` is "ids" (the ticked slots) or "filter" (every slot the list's
    filter matches, resolved here, never the ids the page happened to show)."""

    action = forms.ChoiceField(choices=[(a, a) for a in BulkAction.values])
    scope = forms.ChoiceField(choices=[("ids", "ids"), ("filter", "filter")], required=False)
    days = forms.IntegerField(required=False, min_value=-10_000, max_value=10_000)
    date = forms.DateField(required=False)
    label = forms.UUIDField(required=False)
    reason = forms.CharField(required=False, strip=False)
    # Ticked after being told a bulk Generate would reach Scripe's daily spend cap.
    near_cap = forms.BooleanField(required=False)
