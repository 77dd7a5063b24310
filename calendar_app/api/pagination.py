"""Cursor pages, like Scripe's: `?limit=` (1-200, 50 by default) and `?cursor=` (the previous
answer's `nextCursor`, opaque); the answer is `{"data": [...], "nextCursor": "…" | null}`. A
cursor is a position in the list's order, so rows planned meanwhile neither repeat nor go
missing."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from rest_framework.exceptions import NotFound
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response

from calendar_app.api.errors import ApiError

LIMIT_MAX = 200


class Cursor(CursorPagination):
    page_size = 50
    page_size_query_param = "limit"
    max_page_size = LIMIT_MAX
    ordering = ("created_at", "id")
    page_size_query_description = f"How many to answer, 1-{LIMIT_MAX} (50 if not given)."
    cursor_query_description = "The `nextCursor` of the previous page."

    def get_ordering(self, request, queryset, view):
        # Each list says its own order (posts: by time), which the cursor follows.
        return tuple(getattr(view, "ordering", self.ordering))

    def get_schema_operation_parameters(self, view) -> list[dict]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"].update(minimum=1, maximum=LIMIT_MAX, default=self.page_size)
        return parameters

    def get_page_size(self, request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not raw.isdigit() or not 1 <= int(raw) <= LIMIT_MAX:
            raise ApiError(
                f"limit is a whole number from 1 to {LIMIT_MAX}.",
                code="bad_pagination",
                status_code=400,
            )
        return int(raw)

    def paginate_queryset(self, queryset, request, view=None):
        try:
            return super().paginate_queryset(queryset, request, view)
        except NotFound:
            raise ApiError(
                "This cursor cannot be read; start again without one.",
                code="bad_cursor",
                status_code=400,
            ) from None

    def next_cursor(self) -> str | None:
        link = self.get_next_link()
        if link is None:
            return None
        return parse_qs(urlsplit(link).query).get(self.cursor_query_param, [None])[0]

    def get_paginated_response(self, data) -> Response:
        return Response({"data": data, "nextCursor": self.next_cursor()})

    def get_paginated_response_schema(self, schema: dict) -> dict:
        return {
            "type": "object",
            "required": ["data", "nextCursor"],
            "properties": {
                "data": schema,
                "nextCursor": {
                    "type": "string",
                    "nullable": True,
                    "description": "Pass as `cursor` for the next page; null on the last.",
                },
            },
        }
