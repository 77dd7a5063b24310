"""`{"data": <resource>}`: how a single resource is answered, like Scripe's, as serializer
classes the schema names (`PostEnvelope`)."""

from __future__ import annotations

from functools import cache

from rest_framework import serializers


@cache
def enveloped(serializer_class: type[serializers.Serializer]) -> type[serializers.Serializer]:
    name = serializer_class.__name__.removesuffix("Serializer") + "Envelope"
    return type(name, (serializers.Serializer,), {"data": serializer_class(read_only=True)})


def one(serializer_class, instance, **context) -> dict:
    return {"data": serializer_class(instance, context=context).data}
