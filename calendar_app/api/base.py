"""What every API view shares, on top of DRF's APIView: who acts (the token's person, and the
trail's "via API (<token name>)"), the rate limit, Idempotency-Key on POST, and ETags on reads.
Resources subclass `ApiView` and stay thin: an access function or selector, a service, a
serializer."""

from __future__ import annotations

import hashlib
import json
from contextlib import ExitStack

from django.http import Http404, HttpResponseNotModified
from django.utils.http import parse_etags
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from calendar_app.access import Viewer
from calendar_app.api.idempotency import HEADER, Claim, Replay, idempotency_claim
from calendar_app.api.limits import RateState, rate_take
from calendar_app.api.pagination import Cursor
from calendar_app.notifications.trail import acting_via


class _Replayed(Exception):
    def __init__(self, replay: Replay) -> None:
        self.replay = replay


def _json_safe(data):
    return None if data is None else json.loads(JSONRenderer().render(data))


def etag_of(data) -> str:
    return '"' + hashlib.sha256(JSONRenderer().render(data)).hexdigest()[:32] + '"'


class ApiView(APIView):
    # The services' field names as this resource calls them, for the error envelope's fields.
    field_names: dict[str, str] = {}
    # The scope a write needs (reads need "read"), checked by permissions.TokenScopes.
    write_scope = "plan"
    pagination_class = Cursor

    def dispatch(self, request, *args, **kwargs):
        self._exit = ExitStack()
        self._rate: RateState | None = None
        self._claim: Claim | None = None
        with self._exit:
            return super().dispatch(request, *args, **kwargs)

    @property
    def viewer(self) -> Viewer:
        return self.request.auth.viewer

    @property
    def workspace(self):
        """The token's workspace: where what is made through the API is made."""
        return self.request.auth.token.workspace

    def check_throttles(self, request) -> None:
        use = request.auth
        if use is None:
            return
        self._rate = rate_take(token_key=str(use.token.public_id))
        if not self._rate.allowed:
            self.throttled(request, self._rate.reset)

    def initial(self, request, *args, **kwargs) -> None:
        super().initial(request, *args, **kwargs)
        if any("\x00" in str(value) for value in kwargs.values()):
            # No id holds a NUL, and PostgreSQL refuses to compare with one.
            raise Http404("No such address.")
        use = request.auth
        self._exit.enter_context(acting_via(f"API ({use.token.name})"))
        if request.method == "POST":
            outcome = idempotency_claim(
                token=use.token,
                route=request.path,
                key=request.headers.get(HEADER, ""),
                data=request.data,
            )
            if isinstance(outcome, Replay):
                raise _Replayed(outcome)
            self._claim = outcome

    def handle_exception(self, exc):
        if isinstance(exc, _Replayed):
            response = Response(exc.replay.body, status=exc.replay.status)
            response["Idempotent-Replayed"] = "true"
            return response
        return super().handle_exception(exc)

    def finalize_response(self, request, response, *args, **kwargs):
        if self._claim is not None:
            data = response.data if isinstance(response, Response) else None
            self._claim.keep(response.status_code, _json_safe(data))
            response["Idempotent-Replayed"] = "false"
        if (
            request.method in ("GET", "HEAD")
            and response.status_code == 200
            and isinstance(response, Response)
        ):
            etag = etag_of(response.data)
            asked = parse_etags(request.headers.get("If-None-Match", ""))
            if etag in asked or "*" in asked:
                response = HttpResponseNotModified()
            response["ETag"] = etag
        response = super().finalize_response(request, response, *args, **kwargs)
        if self._rate is not None:
            for name, value in self._rate.headers().items():
                response[name] = value
        return response

    # Lists: one page of a queryset, through the cursor.
    def page_of(self, queryset, serializer_class, **context) -> Response:
        paginator = self.pagination_class()
        rows = paginator.paginate_queryset(queryset, self.request, view=self)
        context = {"request": self.request, **context}
        return paginator.get_paginated_response(
            serializer_class(rows, many=True, context=context).data
        )
