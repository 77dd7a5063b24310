"""Receiving an upload without holding it: Django's temporary-file handler (the file goes to
disk as it arrives), which drops a file of a type not taken, or once it grows past its
type's cap, and keeps the sentence saying why (`refusal`, for the form's `file` field).
Dropped bytes are read and thrown away, so the browser still gets the sentence.

The Sources page and the knowledge pages each give their own rule (`check`: a file's content
type, or a Refusal); set the handler before anything reads the request's body (the CSRF
check does), as their views do."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping

from django.core.files.uploadhandler import SkipFile, TemporaryFileUploadHandler

from calendar_app.core.refusals import Refusal
from scripe_integration.contract import upload_cap

# A rule: the content type a file of this name and size is sent as, or a Refusal.
Check = Callable[[str, int], str]


class CheckedUploadHandler(TemporaryFileUploadHandler):
    """The temporary-file handler under a rule (`check`), for the `file` field; a type
    Scripe names no cap for is held to `default_cap`."""

    check: Check
    default_cap: int | None = None
    refusal: Refusal | None = None

    def new_file(self, field_name, file_name, *args, **kwargs) -> None:
        self.cap = None
        if field_name == "file":
            try:
                content_type = type(self).check(file_name, 1)
            except Refusal as refusal:
                self.refusal = refusal
                raise SkipFile() from None
            self.cap = upload_cap(content_type) or self.default_cap
        super().new_file(field_name, file_name, *args, **kwargs)

    def receive_data_chunk(self, raw_data, start):
        if self.cap is not None and start + len(raw_data) > self.cap:
            try:
                type(self).check(self.file_name, start + len(raw_data))
            except Refusal as refusal:
                self.refusal = refusal
            self.file.close()  # the temporary file is deleted with it
            raise SkipFile()
        return super().receive_data_chunk(raw_data, start)


def handler_for(check: Check, *, default_cap: int | None = None) -> type[CheckedUploadHandler]:
    """A handler class holding uploads to `check` (see the module's docstring)."""
    rule = staticmethod(check)
    return type(
        "CheckedUpload", (CheckedUploadHandler,), {"check": rule, "default_cap": default_cap}
    )


def caps_json(types: Mapping[str, str], *, default_cap: int | None = None) -> str:
    """The browser's copy of a rule (file ending -> the largest size taken), for
    static/js/sources.js's `data-caps`; the server checks again."""
    return json.dumps({ending: upload_cap(kind) or default_cap for ending, kind in types.items()})
