"""CSV import: the upload (a file or pasted text) and the rows to import."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class CsvUploadForm(forms.Form):
    """A CSV to import: a file, or text pasted from a spreadsheet (one of the two)."""

    file = forms.FileField(required=False, label=_("CSV file"))
    text = forms.CharField(
        required=False,
        label=_("…or paste it"),
        strip=False,
        widget=forms.Textarea(attrs={"rows": 8, "placeholder": "date,time,project,note"}),
    )

    def __init__(self, *args, max_bytes: int, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.max_bytes = max_bytes

    def clean(self) -> dict:
        data = super().clean()
        upload, text = data.get("file"), data.get("text") or ""
        if upload and text.strip():
            raise forms.ValidationError(_("Upload a file or paste text, not both."))
        if not upload and not text.strip():
            raise forms.ValidationError(_("Choose a CSV file or paste its text."))
        if upload:
            # One byte more than the limit is enough for the importer to say it is too large.
            data["content"] = upload.read(self.max_bytes + 1)
            data["filename"] = upload.name or ""
        else:
            data["content"] = text.encode("utf-8")
            data["filename"] = ""
        return data


class ImportConfirmForm(forms.Form):
    """Which rows of the previewed file to import (their numbers); the importer checks them."""

    rows = forms.TypedMultipleChoiceField(coerce=int, required=False)

    def __init__(self, *args, row_count: int, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["rows"].choices = [(str(n), str(n)) for n in range(1, row_count + 1)]
