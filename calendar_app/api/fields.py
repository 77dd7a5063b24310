"""The API's own field types."""

from __future__ import annotations

from rest_framework import serializers


class Text(serializers.CharField):
    """A string, and only a string: DRF's CharField turns `0` or `1.5` into "0" and "1.5",
    so a client sending the wrong type would get a label named "0" instead of being told.
    The schema says `string`, and the answer keeps to it (400 with the field's sentence)."""

    default_error_messages = {"invalid": "Send text (a JSON string) here."}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)
