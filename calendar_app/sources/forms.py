"""The sources forms: they only parse; the rules are in `services`."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from calendar_app.models import Project


class _ProjectForm(forms.Form):
    project = forms.ModelChoiceField(
        queryset=Project.objects.none(), empty_label=_("Choose a project"), required=False
    )

    def __init__(self, *args, projects=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["project"].queryset = (
            projects if projects is not None else Project.objects.none()
        )


class UploadForm(_ProjectForm):
    file = forms.FileField(required=False, label=_("Recording or document"))


class TextForm(_ProjectForm):
    url = forms.CharField(required=False, max_length=2000, label=_("Link"))
    text = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 4}), label=_("Text")
    )


class HooksForm(forms.Form):
    hooks = forms.MultipleChoiceField(required=False, choices=())

    def __init__(self, *args, hook_ids=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["hooks"].choices = [(h, h) for h in hook_ids]
