"""The knowledge page's form: what to add. It only parses; the rules are in services."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from calendar_app.models import KnowledgeKind

FORM_KINDS = [
    (KnowledgeKind.TEXT, _("A text")),
    (KnowledgeKind.URL, _("A web page")),
    (KnowledgeKind.YOUTUBE, _("A YouTube video")),
    (KnowledgeKind.FILE, _("A document file")),
]


class KnowledgeForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("What"), choices=FORM_KINDS, initial=KnowledgeKind.TEXT, widget=forms.RadioSelect
    )
    name = forms.CharField(
        label=_("Name"),
        required=False,
        max_length=200,
        help_text=_("Optional: how the list calls it (else its first line or its address)."),
    )
    text = forms.CharField(
        label=_("Text"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_(
            "For a text: facts, a style guide, a founder's story. Up to 100,000 characters."
        ),
    )
    url = forms.CharField(
        label=_("Address"),
        required=False,
        max_length=2048,
        widget=forms.URLInput(attrs={"placeholder": "https://"}),
        help_text=_("For a web page or a YouTube video: Scripe reads it itself."),
    )

    file = forms.FileField(
        label=_("File"),
        required=False,
        help_text=_(
            "For a document: PDF, Word, PowerPoint or plain text, up to 100 MB. The "
            "app's copy is deleted once Scripe has it."
        ),
    )

    def content(self) -> str:
        kind = self.cleaned_data["kind"]
        return self.cleaned_data["text" if kind == KnowledgeKind.TEXT else "url"]
