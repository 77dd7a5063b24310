"""What every response gets: its request id (X-Request-ID), the security headers and the
Content-Security-Policy, the viewer's time zone and language, no caching of signed-in pages, a
readable 400 for a NUL in the address, a readable 405, and the way to the two-factor page for
whoever must enrol first."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django_htmx.http import HttpResponseClientRedirect

from calendar_app.access import viewer_for
from calendar_app.accounts import two_factor
from calendar_app.accounts.sessions import session_seen
from calendar_app.core import request_id


class RequestIdMiddleware:
    """Binds the request's id for its log lines and the tasks it enqueues, and returns it as
    X-Request-ID. Behind the trusted proxy (TRUSTED_PROXY_COUNT > 0: nginx, which sets the
    header on every request it passes) its id is used, so the proxy's access log and ours
    share it; without one a client could choose the ids in our logs, so we make our own."""

    HEADER = "X-Request-ID"

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        value = request_id.chosen(
            request.headers.get(self.HEADER), trusted=settings.TRUSTED_PROXY_COUNT > 0
        )
        request.request_id = value
        token = request_id.bind(value)
        try:
            response = self.get_response(request)
        finally:
            request_id.unbind(token)
        response[self.HEADER] = value
        return response


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


class SessionSeenMiddleware:
    """Keeps the sessions list's "last seen" (calendar_app/accounts/sessions.py): a write at
    most every few minutes a session, not one a request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            session_seen(request)
        return self.get_response(request)


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
            # The REST API's error envelope (calendar_app/api/errors.py): its clients read JSON,
            # in English as the rest of the API.
            error = {"code": "invalid_request", "message": reason, "fields": {}}
            return JsonResponse({"error": error}, status=400)
        reason = _("The address contains a character that cannot be used (a NUL character).")
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
            methods = _(" or ").join(allowed) or _("another method")
            said = _("%(method)s is not allowed here; use %(methods)s.")
            response.content = said % {"method": request.method, "methods": methods} + "\n"
            response["Content-Type"] = "text/plain; charset=utf-8"
        return response


class TwoFactorEnrolmentMiddleware:
    """Sends a signed-in person who must enrol a second factor (accounts/two_factor.py) to the
    two-factor page, whatever they open, until they have one; and a staff user without one
    away from the Django admin when ADMIN_REQUIRES_TWO_FACTOR is on.

    The account pages (enrolment itself, log-out) and a guest review link stay open. API and
    MCP requests carry a token, not a session, so they are never signed in here."""

    # The account pages, a guest's review link, and the scripts' German sentences (/jsi18n/:
    # the enrolment pages load them too; redirected, they came back as HTML the browser refused).
    OPEN_PREFIXES = ("/accounts/", "/r/", "/jsi18n/")

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path_info
        if not request.user.is_authenticated or path.startswith(
            (*self.OPEN_PREFIXES, settings.STATIC_URL)
        ):
            return self.get_response(request)
        if request.session.get(two_factor.MUST_ENROL):
            if two_factor.has_second_factor(request.user):
                # Enrolled elsewhere (another session, or by an operator's hand).
                del request.session[two_factor.MUST_ENROL]
            else:
                return self._to_enrolment(
                    request,
                    _(
                        "Your workspace asks for a second factor. Add an authenticator app "
                        "or a passkey to go on."
                    ),
                )
        if (
            path.startswith("/admin/")
            and settings.ADMIN_REQUIRES_TWO_FACTOR
            and request.user.is_staff
            and not two_factor.has_second_factor(request.user)
        ):
            return self._to_enrolment(
                request,
                _("The admin asks for a second factor. Add an authenticator app or a passkey."),
            )
        return self.get_response(request)

    def _to_enrolment(self, request: HttpRequest, message: str) -> HttpResponse:
        if request.method == "GET":
            messages.warning(request, message)
        htmx = getattr(request, "htmx", None)
        if htmx:
            # The account pages' own lazy parts (the bell, the gauge) get nothing: sending
            # those pages to enrolment again would reload them for ever.
            if urlsplit(htmx.current_url or "").path.startswith(self.OPEN_PREFIXES):
                return HttpResponse(status=204)
            return HttpResponseClientRedirect(reverse("mfa_index"))
        return redirect("mfa_index")
