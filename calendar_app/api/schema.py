"""What the OpenAPI schema says about every operation at once (a drf-spectacular
postprocessing hook): the error envelope for each error an operation may answer, the
`Idempotency-Key` header on POST, `If-None-Match` and the 304 on GET, the rate-limit
headers."""

from __future__ import annotations

ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "fields"],
            "properties": {
                "code": {
                    "type": "string",
                    "description": "What went wrong, to branch on: invalid_request, invalid, "
                    "unauthenticated, forbidden, scope_missing, not_found, conflict, gone, "
                    "rate_limited, idempotency_key_conflict, bad_cursor, bad_pagination…",
                },
                "message": {"type": "string", "description": "A sentence for a person."},
                "fields": {
                    "type": "object",
                    "additionalProperties": {"type": "string"},
                    "description": "A sentence per request field at fault.",
                },
            },
        }
    },
}
ERRORS = {
    "400": "The request does not parse (a field, the JSON, a cursor).",
    "401": "No token, or one that is unknown, revoked or expired.",
    "403": "The token's scopes or its person's role do not allow it.",
    "404": "Not there, or not in the token's workspace.",
    "405": "Not a method of this address.",
    "406": "Only JSON is answered.",
    "409": "The post's state does not allow it now, or an Idempotency-Key was reused.",
    "410": "Too late (a delete is undone within seconds).",
    "415": "Send JSON.",
    "422": "The rules refuse the input; `fields` says why, per field.",
    "429": "The token's rate limit is used up; see Retry-After.",
}
RATE_HEADERS = {
    "RateLimit-Limit": "Requests the token may make per minute.",
    "RateLimit-Remaining": "Requests left in this minute.",
    "RateLimit-Reset": "Seconds until the minute ends.",
}


def _headers(names: dict[str, str]) -> dict:
    return {
        name: {"schema": {"type": "integer"}, "description": text} for name, text in names.items()
    }


def add_conventions(result: dict, generator, request, public) -> dict:
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for path in result.get("paths", {}).values():
        for method, operation in path.items():
            responses = operation.setdefault("responses", {})
            for answer in responses.values():
                answer.setdefault("headers", {}).update(_headers(RATE_HEADERS))
            for code, text in ERRORS.items():
                responses.setdefault(code, {"description": text, "content": error})
            responses["429"]["headers"] = _headers(
                {"Retry-After": "Seconds to wait before trying again.", **RATE_HEADERS}
            )
            parameters = operation.setdefault("parameters", [])
            if method == "get":
                parameters.append(
                    {
                        "in": "header",
                        "name": "If-None-Match",
                        "schema": {"type": "string"},
                        "description": "The ETag of the copy you have: 304 if unchanged.",
                    }
                )
                responses["304"] = {"description": "Not changed since the ETag you sent."}
                for code in ("200",):
                    if code in responses:
                        responses[code]["headers"]["ETag"] = {
                            "schema": {"type": "string"},
                            "description": "Send back as If-None-Match.",
                        }
            if method == "post":
                parameters.append(
                    {
                        "in": "header",
                        "name": "Idempotency-Key",
                        # No `pattern`: a malformed key is ignored, not refused (as Scripe
                        # does), so the schema must not promise a 400 for one.
                        "schema": {"type": "string"},
                        "description": "1-64 letters, digits, - or _ (another value is "
                        "ignored). The same key and body within 24 h answers the first "
                        "answer again (Idempotent-Replayed: true); another body is a 409.",
                    }
                )
    return result
