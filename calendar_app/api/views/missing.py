"""Addresses under /api/ that are none of the API's, and the docs page."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.permissions import AllowAny

from calendar_app.api.errors import envelope


@csrf_exempt
def missing(request: HttpRequest, *args, **kwargs) -> JsonResponse:
    """The error envelope rather than the site's HTML 404 page: an API client reads JSON.
    Exempt from CSRF like the API's views (a token, never a cookie, says who asks), so a POST
    to a wrong address is a 404 too, not the CSRF page."""
    return JsonResponse(
        envelope("not_found", "There is no such address in the API; see /api/docs/."), status=404
    )


class Schema(SpectacularAPIView):
    """The OpenAPI 3 schema: public, it describes what a token may do and holds no data."""

    authentication_classes = []
    permission_classes = [AllowAny]


class Docs(SpectacularSwaggerSplitView):
    """Swagger UI from drf-spectacular-sidecar, its script served apart (no inline script).
    Swagger UI sets inline styles, which the site's policy refuses; this page alone allows
    them."""

    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(exclude=True)
    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        response["Content-Security-Policy"] = settings.CONTENT_SECURITY_POLICY.replace(
            "style-src 'self'", "style-src 'self' 'unsafe-inline'"
        )
        return response
