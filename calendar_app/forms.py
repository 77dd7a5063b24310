from __future__ import annotations

import zoneinfo
from datetime import time

from django import forms

from calendar_app.models import LANGUAGES, SOURCE_TEXT_MAX_CHARS, Project, SourceNote
from calendar_app.scheduling import (
    LocalTimeError,
    local_to_utc,
    schedule_problem,
    time_choices,
)


class ProjectChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Project) -> str:
        return obj.name if obj.is_active else f"{obj.name} ({obj.status.lower()})"


class NoteChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: SourceNote) -> str:
        return obj.excerpt


class SlotForm(forms.Form):
    """Plan (or re-plan) a post: a project, a note and a local date and time."""

    project = ProjectChoiceField(queryset=Project.objects.none(), empty_label="Choose a project")
    note_text = forms.CharField(
        label="Source note",
        required=False,
        max_length=SOURCE_TEXT_MAX_CHARS,
        widget=forms.Textarea(
            attrs={"rows": 6, "placeholder": "The idea, raw text or a transcript snippet"}
        ),
    )
    existing_note = NoteChoiceField(
        label="…or reuse a note",
        queryset=SourceNote.objects.none(),
        required=False,
        empty_label="Write a new note",
    )
    language = forms.ChoiceField(choices=LANGUAGES, initial="en")
    date = forms.DateField(
        widget=forms.HiddenInput,
        error_messages={"required": "Pick a day in the calendar."},
    )
    time = forms.ChoiceField(choices=time_choices, initial="09:00")
    generate_now = forms.BooleanField(
        required=False, label="Have Scripe write it now", initial=False
    )

    def __init__(self, *args, projects, notes, zone: zoneinfo.ZoneInfo, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.zone = zone
        self.fields["project"].queryset = projects
        self.fields["existing_note"].queryset = notes
        self.scheduled_for = None

    def clean_project(self) -> Project:
        project = self.cleaned_data["project"]
        if not project.is_active:
            raise forms.ValidationError(project.inactive_reason)
        return project

    def clean(self) -> dict:
        data = super().clean()
        text = (data.get("note_text") or "").strip()
        note = data.get("existing_note")
        if not text and not note:
            self.add_error("note_text", "Write the note Scripe should turn into a post.")
        if note and data.get("project") and note.workspace_id != data["project"].workspace_id:
            self.add_error("existing_note", "That note belongs to another workspace.")
        day, clock = data.get("date"), data.get("time")
        if day and clock:
            try:
                when = local_to_utc(day, time.fromisoformat(clock), self.zone)
            except LocalTimeError as error:
                self.add_error("time", str(error))
            else:
                problem = schedule_problem(when)
                if problem:
                    self.add_error("time", problem)
                else:
                    self.scheduled_for = when
        return data


class SlotFilterForm(forms.Form):
    q = forms.CharField(required=False, label="Search")
    project = forms.ModelChoiceField(
        queryset=Project.objects.none(), required=False, empty_label="All projects"
    )
    status = forms.ChoiceField(required=False)
    date_from = forms.DateField(required=False, label="From")
    date_to = forms.DateField(required=False, label="To")

    def __init__(self, *args, projects, status_choices, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["project"].queryset = projects
        self.fields["status"].choices = [("", "Any status"), *status_choices]

    def clean(self) -> dict:
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            self.add_error("date_to", "The end date is before the start date.")
        return data


class ProfileForm(forms.Form):
    time_zone = forms.ChoiceField(
        required=False, help_text="Leave empty to use your workspace's time zone."
    )

    def __init__(self, *args, zones, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["time_zone"].choices = [("", "Workspace default"), *zones]
