"""The client's side of a review link: no login, the address is the key (review/guests.py).

An unknown or revoked address answers 404, an expired one or one made for an earlier version
of the draft 410, each with a sentence. The page is plain HTML forms (no HTMX needed) that
answer with a redirect back to it, so a reload never sends an approval twice; the name a guest
gave is kept in their session for the next form.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from calendar_app.core.refusals import Refusal
from calendar_app.models import ReviewLink
from calendar_app.review import guests
from calendar_app.review import services as review

PAGE = "guests/review.html"
GONE = "guests/gone.html"


def _link(request: HttpRequest, token: str) -> ReviewLink | HttpResponse:
    """The link, or the page that says why it does not open (404 or 410)."""
    try:
        link = guests.link_for_token(token)
    except guests.LinkExpired as expired:
        with timezone.override(expired.link.slot.workspace.zone):
            return _no_robots(render(request, GONE, {"expired": expired.link}, status=410))
    except guests.LinkOutdated as outdated:
        return _outdated(request, outdated.link)
    if link is None:
        return _no_robots(render(request, GONE, {}, status=404))
    return link


def _outdated(request: HttpRequest, link: ReviewLink) -> HttpResponse:
    return _no_robots(render(request, GONE, {"outdated": link}, status=410))


def _no_robots(response: HttpResponse) -> HttpResponse:
    response["X-Robots-Tag"] = "noindex, nofollow"
    # The token is in the address: other sites must not see it in a Referer. "same-origin"
    # keeps it from them; "no-referrer" would too, but makes the browser send `Origin: null`
    # with this page's own forms, which Django's CSRF check refuses (a guest could not act).
    response["Referrer-Policy"] = "same-origin"
    return response


def _page(
    request: HttpRequest,
    link: ReviewLink,
    token: str,
    *,
    form: str = "",
    errors: dict | None = None,
    status: int = 200,
) -> HttpResponse:
    slot = guests.shared_slot(link)
    job = slot.current_job
    context = {
        "link": link,
        "link_token": token,
        "slot": slot,
        "job": job,
        "limit": review.LINKEDIN_LIMIT,
        # The form that was refused ("approve" or "comment") shows its fields' problems.
        "form": form,
        "errors": errors or {},
        "refusal_message": (errors or {}).get("__all__", ""),
        "typed": {k: request.POST.get(k, "") for k in ("name", "text")} if errors else {},
        "guest_name": request.session.get("guest_name", ""),
    }
    with timezone.override(slot.workspace.zone):
        return _no_robots(render(request, PAGE, context, status=status))


@never_cache
@require_GET
def guest_review(request: HttpRequest, token: str) -> HttpResponse:
    link = _link(request, token)
    if isinstance(link, HttpResponse):
        return link
    return _page(request, link, token)


def _act(request: HttpRequest, token: str, form: str, action) -> HttpResponse:
    link = _link(request, token)
    if isinstance(link, HttpResponse):
        return link
    try:
        message = action(link)
    except guests.LinkOutdated:
        return _outdated(request, link)
    except Refusal as refusal:
        # The draft may have changed while this was refused (a race with a manager): then
        # the page says so rather than offer the new text.
        again = _link(request, token)
        if isinstance(again, HttpResponse):
            return again
        errors = refusal.fields or {"__all__": refusal.message}
        return _page(request, again, token, form=form, errors=errors, status=refusal.status)
    request.session["guest_name"] = " ".join(request.POST.get("name", "").split())
    messages.success(request, message)
    return redirect("guest_review", token)


@never_cache
@require_POST
def guest_approve(request: HttpRequest, token: str) -> HttpResponse:
    return _act(
        request,
        token,
        "approve",
        lambda link: guests.guest_approve(link=link, name=request.POST.get("name")),
    )


@never_cache
@require_POST
def guest_comment(request: HttpRequest, token: str) -> HttpResponse:
    def comment(link: ReviewLink) -> str:
        guests.guest_comment(
            link=link, name=request.POST.get("name"), text=request.POST.get("text")
        )
        return _("Thank you: your comment was sent to the team.")

    return _act(request, token, "comment", comment)
