"""The insights page's filter: a workspace, a project and a label."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from calendar_app.models import Label, Project, Workspace


class InsightsFilterForm(forms.Form):
    """Which workspace (for someone who manages several), project and label the page shows;
    each is one field here and one in `insights.Scope`."""

    workspace = forms.ModelChoiceField(
        queryset=Workspace.objects.none(), required=False, to_field_name="public_id"
    )
    project = forms.ModelChoiceField(
        queryset=Project.objects.none(),
        required=False,
        to_field_name="scripe_id",
        empty_label=_("All projects"),
    )
    label = forms.ModelChoiceField(
        queryset=Label.objects.none(),
        required=False,
        to_field_name="public_id",
        empty_label=_("Any label"),
    )

    def __init__(self, *args, workspaces: list[Workspace], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        ids = [w.pk for w in workspaces]
        self.fields["workspace"].queryset = Workspace.objects.filter(pk__in=ids)
        self.fields["workspace"].empty_label = None
        self.fields["project"].queryset = Project.objects.filter(workspace_id__in=ids)
        self.fields["label"].queryset = Label.objects.filter(workspace_id__in=ids)
