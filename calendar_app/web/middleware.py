"""What every response gets: the security headers and the Content-Security-Policy, the viewer's
time zone and language, no caching of signed-in pages, a readable 400 for a NUL in the address and a
readable 405."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import render
from django.utils import timezone, translation
from django.utils.cache import patch_cache_control

from calendar_app.access import viewer_for


class PolicyHeadersMiddleware:
    """Sends the site's policies on every response that does not set its own:
    settings.CONTENT_SECURITY_POLICY (no inline script or style, nothing from elsewhere) and
    settings.PERMISSIONS_POLICY (browser features the app never uses, switched off).

    Django 5.2 has no CSP support of its own, and two headers are not worth a dependency.
    """

    HEADERS = {
        "Content-Security-Policy": "CONTENT_SECURITY_POLICY",
        "Permissions-Policy": "PERMISSIONS_POLICY",
    }

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        for header, setting in self.HEADERS.items():
            policy = getattr(settings, setting, "")
            if policy and header not in response:
                response[header] = policy
        return response


class UserTimeZoneMiddleware:
    """Renders every time in the signed-in user's zone (their profile's, else their
    workspace's, else UTC); storage stays UTC."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            timezone.activate(viewer_for(request).zone)
        else:
            timezone.deactivate()
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()


class UserLanguageMiddleware:
    """Puts a signed-in person's chosen interface language (their profile's) over the one
    LocaleMiddleware took from the browser's Accept-Language; blank keeps the browser's.

    The profile is the one UserTimeZoneMiddleware already read, so this costs no query."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            language = viewer_for(request).language
            if language:
                translation.activate(language)
                request.LANGUAGE_CODE = language
        # Not deactivated afterwards: LocaleMiddleware's response half reads the active
        # language for Content-Language, and activates the next request's anew.
        return self.get_response(request)


class SignedInCacheControlMiddleware:
    """Adds settings.SIGNED_IN_CACHE_CONTROL ("private, no-store") to every response for a
    signed-in person, on top of what the view set; anonymous responses are left alone.

    It sits below AuthenticationMiddleware, so static files (served by WhiteNoise, higher up)
    never reach it.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        directives = getattr(settings, "SIGNED_IN_CACHE_CONTROL", "")
        self.directives = {}
        for directive in filter(None, (d.strip() for d in directives.split(","))):
            name, _, value = directive.partition("=")
            self.directives[name.strip().replace("-", "_")] = value.strip() or True

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        # request.user, not the session: after a log-out view it is already anonymous.
        if self.directives and request.user.is_authenticated:
            patch_cache_control(response, **self.directives)
        return response


def _is_htmx(request: HttpRequest) -> bool:
    # The header, not request.htmx: HtmxMiddleware sits below these middlewares.
    return request.headers.get("HX-Request") == "true"


def _wants_html_page(request: HttpRequest) -> bool:
    """A browser navigating: it names text/html in Accept (not just */*), and is not htmx."""
    accept = request.headers.get("Accept", "")
    return "text/html" in accept and not _is_htmx(request)


class RefuseNulInQueryMiddleware:
    """Answers 400 to a query string whose keys or values contain a NUL character, before
    any view runs: PostgreSQL refuses such strings, so a filter would otherwise fail as 500."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        for key, values in request.GET.lists():
            if "\x00" in key or any("\x00" in value for value in values):
                return self._refuse(request)
        return self.get_response(request)

    def _refuse(self, request: HttpRequest) -> HttpResponse:
        reason = "The address contains a character that cannot be used (a NUL character)."
        if request.path.startswith("/api/"):
            # The REST API's error envelope (calendar_app/api/errors.py): its clients read JSON.
            error = {"code": "invalid_request", "message": reason, "fields": {}}
            return JsonResponse({"error": error}, status=400)
        if _wants_html_page(request):
            return render(request, "400.html", {"reason": reason}, status=400)
        return HttpResponseBadRequest(reason, content_type="text/plain; charset=utf-8")


class ReadableMethodNotAllowedMiddleware:
    """Gives a 405 with an empty body (what require_POST and friends return) a body: a page
    for a browser, one line of text for htmx and other clients. Status and Allow stay."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code != 405 or response.streaming or response.content:
            return response
        # The methods a person could use; OPTIONS and HEAD (from class-based views) are noise.
        allowed = [
            method
            for method in (m.strip() for m in response.get("Allow", "").split(","))
            if method and method not in ("OPTIONS", "HEAD")
        ]
        if _wants_html_page(request):
            page = render(request, "405.html", {"method": request.method, "allowed": allowed})
            response.content = page.content
            response["Content-Type"] = page["Content-Type"]
        else:
            methods = " or ".join(allowed) or "another method"
            response.content = f"{request.method} is not allowed here; use {methods}.\n"
            response["Content-Type"] = "text/plain; charset=utf-8"
        return response
