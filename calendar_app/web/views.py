"""Pages outside any capability: the health check and the favicon."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.templatetags.static import static
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from calendar_app.access import viewer_for
from calendar_app.models import Role
from calendar_app.web.health import run_checks


def _administered(request: HttpRequest) -> frozenset[int] | None:
    """Whose Scripe outage this caller may see named: a superuser's, all; a staff admin's,
    their workspaces'; anyone else's, none."""
    user = request.user
    if user.is_superuser:
        return None
    if not user.is_staff:
        return frozenset()
    return frozenset(w.pk for w in viewer_for(request).workspaces_with(Role.ADMIN))


@require_GET
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    checks = run_checks(named=_administered(request))
    failing = sorted(name for name, check in checks.items() if not check.ok)
    body = {
        "status": "failing" if failing else "ok",
        "failing": failing,
        "checks": {name: {"ok": c.ok, **c.detail} for name, c in checks.items()},
    }
    return JsonResponse(body, status=503 if failing else 200)


@require_GET
def favicon(request: HttpRequest) -> HttpResponse:
    return redirect(static("img/favicon.svg"), permanent=True)
