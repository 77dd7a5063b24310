"""The ideas board's forms: they parse and label; the rules are in `services`."""

from __future__ import annotations

import re
import uuid

from django import forms
from django.utils.translation import gettext_lazy as _

from calendar_app.core.calendar_grid import parse_clock, parse_day
from calendar_app.models import LANGUAGES, Idea, Label, Project, Workspace


class IdeaForm(forms.Form):
    text = forms.CharField(
        required=False,
        label=_("Idea"),
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": _("What could a post say?")}),
    )
    link = forms.CharField(
        required=False,
        label=_("Link"),
        widget=forms.URLInput(attrs={"placeholder": "https://…"}),
    )
    project = forms.ModelChoiceField(
        queryset=Project.objects.none(), required=False, empty_label=_("No project yet")
    )
    labels = forms.ModelMultipleChoiceField(
        queryset=Label.objects.none(), required=False, widget=forms.CheckboxSelectMultiple
    )
    language = forms.ChoiceField(choices=LANGUAGES, initial="en")
    # Only asked of someone who plans in several workspaces and picks no project.
    workspace = forms.ModelChoiceField(
        queryset=Workspace.objects.none(), required=False, empty_label=None
    )

    def __init__(self, *args, workspaces, projects, labels, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["workspace"].queryset = workspaces
        self.fields["project"].queryset = projects
        self.fields["labels"].queryset = labels
        self.several_workspaces = len(workspaces) > 1

    def target_workspace(self) -> Workspace | None:
        """The idea's workspace: its project's, else the one picked, else the only one."""
        data = self.cleaned_data
        if data.get("project") is not None:
            return data["project"].workspace
        if data.get("workspace") is not None:
            return data["workspace"]
        return next(iter(self.fields["workspace"].queryset), None)

    def fields_for_service(self) -> dict:
        data = self.cleaned_data
        return {
            "text": data.get("text", ""),
            "link": data.get("link", ""),
            "project": data.get("project"),
            "labels": list(data.get("labels") or ()),
            "language": data.get("language") or "",
        }

    @staticmethod
    def initial_of(idea: Idea) -> dict:
        return {
            "text": idea.text,
            "link": idea.link,
            "project": idea.project_id,
            "labels": [label.pk for label in idea.labels.all()],
            "language": idea.language,
        }


class PlanForm(forms.Form):
    """ "Plan on…": a local day and time (the keyboard's way to do what a drop does)."""

    date = forms.CharField(label=_("Day"), widget=forms.DateInput(attrs={"type": "date"}))
    time = forms.CharField(
        label=_("Time"), required=False, widget=forms.TimeInput(attrs={"type": "time", "step": 900})
    )
    request_key = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("initial", {})
        kwargs["initial"] = {"request_key": uuid.uuid4().hex, **kwargs["initial"]}
        super().__init__(*args, **kwargs)

    def clean_date(self):
        day = parse_day(self.cleaned_data["date"], showable=False)
        if day is None:
            raise forms.ValidationError(_("Pick a day, like 2026-12-24."))
        return day

    def clean_time(self):
        value = self.cleaned_data["time"]
        if not value:
            return None
        clock = parse_clock(value)
        if clock is None:
            raise forms.ValidationError(_("Pick a time, like 09:00."))
        return clock

    def clean_request_key(self) -> str:
        key = self.cleaned_data["request_key"]
        return key if re.fullmatch(r"[0-9a-f]{32}", key) else ""
