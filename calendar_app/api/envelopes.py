"""`{"data": <resource>}`: how a single resource is answered, like Scripe's, as serializer
classes the schema names (`PostEnvelope`)."""

from __future__ import annotations

from functools import cache

from rest_framework import serializers

from calendar_app.api.fields import Text


@cache
def enveloped(serializer_class: type[serializers.Serializer]) -> type[serializers.Serializer]:
    name = serializer_class.__name__.removesuffix("Serializer") + "Envelope"
    return type(name, (serializers.Serializer,), {"data": serializer_class(read_only=True)})


def one(serializer_class, instance, **context) -> dict:
    return {"data": serializer_class(instance, context=context).data}


@cache
def said(serializer_class: type[serializers.Serializer]) -> type[serializers.Serializer]:
    """`{"data": <resource>, "message": "<sentence>"}`: an action's answer, with what it did
    in the words the page's toast uses (an approval may end as "missed", a request for
    changes may not reach Scripe yet; a client shows the person why)."""
    name = serializer_class.__name__.removesuffix("Serializer") + "Outcome"
    fields = {
        "data": serializer_class(read_only=True),
        "message": Text(read_only=True, help_text="What happened, in words."),
    }
    return type(name, (serializers.Serializer,), fields)


def told(serializer_class, instance, message: str, **context) -> dict:
    return {"data": serializer_class(instance, context=context).data, "message": message}
