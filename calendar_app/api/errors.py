"""One error envelope for every error the API answers:
`{"error": {"code": "...", "message": "...", "fields": {"<field>": "<sentence>"}}}`.

A refusal from a service keeps its status (409 the state does not allow it, 422 the input is
wrong, 410 too late, 403 the role does not allow it) and its field sentences, under the API's
field names (a view's `field_names` maps the services' names to them)."""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response

from calendar_app.core.refusals import Refusal

log = logging.getLogger(__name__)

REFUSAL_CODES = {
    403: "forbidden",
    404: "not_found",
    409: "conflict",
    410: "gone",
    422: "invalid",
}
# DRF's own codes, where ours say it better for a client author.
DRF_CODES = {
    "invalid": "invalid_request",
    "parse_error": "invalid_json",
    "not_authenticated": "unauthenticated",
    "authentication_failed": "unauthenticated",
    "permission_denied": "forbidden",
    "throttled": "rate_limited",
}


class ApiError(exceptions.APIException):
    """An answer with a code of its own (bad_cursor, idempotency_key_conflict…)."""

    def __init__(self, message: str, *, code: str, status_code: int) -> None:
        super().__init__(message, code)
        self.status_code = status_code


def envelope(code: str, message: str, fields: dict | None = None) -> dict:
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


def _flatten(detail, prefix: str = "") -> dict[str, str]:
    """DRF's nested error lists as one sentence per field (`labelIds.0`, `__all__`)."""
    if isinstance(detail, dict):
        fields: dict[str, str] = {}
        for name, inner in detail.items():
            key = "__all__" if name == "non_field_errors" else str(name)
            fields.update(_flatten(inner, f"{prefix}.{key}" if prefix else key))
        return fields
    if isinstance(detail, list):
        if detail and all(not isinstance(item, dict | list) for item in detail):
            return {prefix or "__all__": " ".join(str(item) for item in detail)}
        fields = {}
        for index, inner in enumerate(detail):
            fields.update(_flatten(inner, f"{prefix}.{index}" if prefix else str(index)))
        return fields
    return {prefix or "__all__": str(detail)}


def _renamed(fields: dict[str, str], names: dict[str, str]) -> dict[str, str]:
    renamed: dict[str, str] = {}
    for name, message in fields.items():
        key = names.get(name, name)
        # Two service fields may be one API field (date and time: scheduledFor).
        renamed[key] = f"{renamed[key]} {message}" if key in renamed else message
    return renamed


def exception_handler(exc, context) -> Response:
    view = context.get("view")
    names = getattr(view, "field_names", {})
    headers: dict[str, str] = {}
    if isinstance(exc, Refusal):
        code = REFUSAL_CODES.get(exc.status, "refused")
        fields = _renamed(exc.fields, names)
        return Response(envelope(code, exc.message, fields), status=exc.status)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(str(exc) or "Not found.")
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or "You may not do this.")
    if isinstance(exc, exceptions.APIException):
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header
        if getattr(exc, "wait", None) is not None:
            headers["Retry-After"] = str(int(exc.wait))
        if isinstance(exc, exceptions.ValidationError):
            fields = _renamed(_flatten(exc.detail), names)
            message = "Some fields need another value: " + ", ".join(sorted(fields)) + "."
            return Response(
                envelope("invalid_request", message, fields),
                status=exc.status_code,
                headers=headers,
            )
        detail = exc.detail
        raw_code = getattr(detail, "code", None) or exc.default_code
        code = DRF_CODES.get(raw_code, raw_code)
        message = str(detail)
        if isinstance(exc, exceptions.Throttled):
            message = f"Too many requests with this token; try again in {int(exc.wait or 1)} s."
        return Response(envelope(code, message), status=exc.status_code, headers=headers)
    # A bug of ours: logged with its traceback, and never shown to the client.
    log.exception("API error in %s", type(view).__name__ if view else "?")
    return Response(
        envelope("server_error", "Something went wrong on our side; it has been logged."),
        status=status.HTTP_500_INTERNAL_SERVER_ERROR,
    )
