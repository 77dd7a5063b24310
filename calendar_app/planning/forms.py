"""The planning pages' forms: a post, the list's filter, a label, a posting schedule, a
repeat rule. Forms only parse and add widgets and labels; the rules are in services."""

from __future__ import annotations

import re
import uuid
from datetime import time

from django import forms
from django.utils.dates import WEEKDAYS_ABBR
from django.utils.translation import gettext_lazy as _

from calendar_app.access import Viewer
from calendar_app.core.calendar_grid import (
    FIRST_YEAR,
    LAST_YEAR,
    is_showable,
)
from calendar_app.models import (
    LABEL_COLOURS,
    LANGUAGES,
    WEEKDAY_CHOICES,
    Label,
    Project,
    SourceNote,
)
from calendar_app.planning import selectors
from calendar_app.planning.scheduling import time_choices
from calendar_app.planning.selectors import STATUS_FILTERS
from calendar_app.planning.series import Rule


class ProjectChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Project) -> str:
        return obj.name if obj.is_active else f"{obj.name} ({obj.status.lower()})"


class NoteChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: SourceNote) -> str:
        return obj.excerpt


class SlotForm(forms.Form):
    """Plan (or re-plan) a post: a project, a note and a local date and time.

    The form only turns the request into values; `services.slot_validate` holds the rules,
    and its refusal is shown next to these fields.
    """

    # Not required here: the service says what is missing, with every other rule at once.
    project = ProjectChoiceField(
        queryset=Project.objects.none(), empty_label=_("Choose a project"), required=False
    )
    # No max_length: the browser would cut a long paste without a word (maxlength); the
    # service refuses it instead and says by how much.
    note_text = forms.CharField(
        label=_("Source note"),
        required=False,
        widget=forms.Textarea(
            attrs={"rows": 6, "placeholder": _("The idea, raw text or a transcript snippet")}
        ),
    )
    existing_note = NoteChoiceField(
        label=_("…or reuse a note"),
        queryset=SourceNote.objects.none(),
        required=False,
        empty_label=_("Write a new note"),
    )
    language = forms.ChoiceField(choices=LANGUAGES, initial="en")
    date = forms.DateField(widget=forms.HiddenInput, required=False)
    time = forms.TypedChoiceField(choices=time_choices, initial="09:00", coerce=time.fromisoformat)
    generate_now = forms.BooleanField(
        required=False, label=_("Have Scripe write it now"), initial=False
    )
    # One key per form shown: submitting it twice (a double click) plans one slot.
    request_key = forms.CharField(required=False, widget=forms.HiddenInput)
    # The labels of the planner's workspaces; the service checks they fit the project's.
    labels = forms.ModelMultipleChoiceField(
        queryset=Label.objects.none(), required=False, widget=forms.CheckboxSelectMultiple
    )
    # Sent with the label boxes: without it (a client that never showed them) the slot's
    # labels stay as they are rather than being cleared.
    labels_shown = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, projects, notes, may_put_first: bool = False, **kwargs) -> None:
        # Whether the new-post form offers "Add to top of queue" (`queue.may_reorder` in a
        # workspace of the person's); the service refuses it to anyone else all the same.
        self.may_put_first = may_put_first
        kwargs.setdefault("initial", {})
        kwargs["initial"] = {
            "request_key": uuid.uuid4().hex,
            "labels_shown": True,
            **kwargs["initial"],
        }
        super().__init__(*args, **kwargs)
        self.fields["project"].queryset = projects
        self.fields["existing_note"].queryset = notes
        self.fields["labels"].queryset = Label.objects.filter(
            workspace_id__in=projects.values("workspace_id")
        ).select_related("workspace")

    def clean_request_key(self) -> str:
        # Only a key this form made counts; anything else plans as if there were none.
        key = self.cleaned_data["request_key"]
        return key if re.fullmatch(r"[0-9a-f]{32}", key) else ""

    def plan(self) -> dict:
        """The fields as `services.slot_create` and `slot_update` take them (None for a
        field that did not parse)."""
        data = self.cleaned_data
        return {
            "project": data.get("project"),
            "note_text": data.get("note_text", ""),
            "note": data.get("existing_note"),
            "language": data.get("language", ""),
            "day": data.get("date"),
            "clock": data.get("time"),
            "labels": data.get("labels") if data.get("labels_shown") else None,
        }


class SlotFilterForm(forms.Form):
    q = forms.CharField(required=False, label=_("Search"))
    project = forms.ModelChoiceField(
        queryset=Project.objects.none(), required=False, empty_label=_("All projects")
    )
    status = forms.ChoiceField(required=False)
    date_from = forms.DateField(required=False, label=_("From"))
    date_to = forms.DateField(required=False, label=_("To"))
    label = forms.ModelChoiceField(
        queryset=Label.objects.none(),
        required=False,
        empty_label=_("Any label"),
        to_field_name="public_id",
    )

    def __init__(self, *args, projects, **kwargs) -> None:
        # Ids of their own: All posts opens the New post dialog, whose form has a Project
        # too, and a label names its field by id (#24).
        kwargs.setdefault("auto_id", "filter-%s")
        super().__init__(*args, **kwargs)
        self.fields["project"].queryset = projects
        self.fields["status"].choices = [("", _("Any status")), *STATUS_FILTERS]
        self.fields["label"].queryset = Label.objects.filter(
            workspace_id__in=projects.values("workspace_id")
        )

    def clean(self) -> dict:
        data = super().clean()
        for name in ("date_from", "date_to"):
            if data.get(name) and not is_showable(data[name]):
                self.add_error(
                    name,
                    _("Pick a date between %(first)s and %(last)s.")
                    % {"first": FIRST_YEAR, "last": LAST_YEAR},
                )
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            self.add_error("date_to", _("The end date is before the start date."))
        return data


class LabelForm(forms.Form):
    """A label's name and colour; `labels.label_create` / `label_update` hold the rules."""

    name = forms.CharField(required=False)
    colour = forms.TypedChoiceField(choices=LABEL_COLOURS, coerce=int, initial=0)


class ScheduleForm(forms.Form):
    """A project's posting schedule: each weekday's local times, typed ("08:30, 12:00");
    `queue.parse_schedule` reads and checks them."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for number, name in WEEKDAY_CHOICES:
            self.fields[f"day_{number}"] = forms.CharField(
                label=name, required=False, max_length=200
            )

    def days(self) -> dict[int, str]:
        return {number: self.cleaned_data.get(f"day_{number}", "") for number, _ in WEEKDAY_CHOICES}


class RepeatForm(forms.Form):
    """How a post repeats (on the slot form, beside the first post's day and time);
    `series.rule_check` holds the rules."""

    repeat = forms.ChoiceField(
        choices=[("", _("Does not repeat")), ("weekly", _("Weekly")), ("monthly", _("Monthly"))],
        required=False,
    )
    interval = forms.IntegerField(min_value=1, max_value=52, initial=1, required=False)
    weekdays = forms.TypedMultipleChoiceField(
        choices=[(n, WEEKDAYS_ABBR[n]) for n, _name in WEEKDAY_CHOICES],
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    monthly_by = forms.ChoiceField(
        choices=[("day", _("On day")), ("weekday", _("On the"))], required=False, initial="day"
    )
    month_day = forms.IntegerField(min_value=1, max_value=31, required=False)
    week_of_month = forms.TypedChoiceField(
        choices=[
            (1, _("first")),
            (2, _("second")),
            (3, _("third")),
            (4, _("fourth")),
            (-1, _("last")),
        ],
        coerce=int,
        required=False,
        empty_value=None,
    )
    month_weekday = forms.TypedChoiceField(
        choices=WEEKDAY_CHOICES, coerce=int, required=False, empty_value=None
    )
    ends = forms.ChoiceField(
        choices=[("never", _("Never")), ("until", _("On")), ("count", _("After"))],
        required=False,
        initial="never",
    )
    until = forms.DateField(required=False)
    count = forms.IntegerField(min_value=1, max_value=520, required=False)

    def rule(self):
        data = self.cleaned_data
        ends = data.get("ends") or "never"
        monthly_by = data.get("monthly_by") or ""
        return Rule(
            frequency=data.get("repeat") or "",
            interval=data.get("interval") or 1,
            weekdays=tuple(sorted(set(data.get("weekdays") or ()))),
            monthly_by=monthly_by,
            month_day=data.get("month_day") if monthly_by == "day" else None,
            week_of_month=data.get("week_of_month") if monthly_by == "weekday" else None,
            month_weekday=data.get("month_weekday") if monthly_by == "weekday" else None,
            until=data.get("until") if ends == "until" else None,
            count=data.get("count") if ends == "count" else None,
        )


def filtered_slots(viewer: Viewer, data) -> tuple[SlotFilterForm, object]:
    """The list's filter form on `data` and the slots it matches (none while it does not
    parse): what All slots shows, and what "select all matching the filter" acts on."""
    form = SlotFilterForm(
        data or None,
        projects=selectors.visible_projects(viewer),
    )
    if not form.is_bound:
        return form, selectors.slots_matching(viewer)
    if not form.is_valid():
        return form, selectors.slots_matching(viewer).none()
    return form, selectors.slots_filtered(viewer, form.cleaned_data)
