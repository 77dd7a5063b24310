"""The bell, the list, mark read, email preferences, watching a slot, and unsubscribing from
an email link without logging in. The rules are in calendar_app/notifications/services.py."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from calendar_app.access import slot_for
from calendar_app.notifications import selectors
from calendar_app.notifications import services as notifications
from calendar_app.notifications.forms import preferences_form
from calendar_app.web.fragments import bell_html

LIST = "notifications/list.html"


@login_required
@require_GET
def notification_bell(request: HttpRequest) -> HttpResponse:
    """The bell with its count, which a page loads once it is shown (so pages themselves
    cost no query for it); the live poll keeps it current from then on."""
    unread = selectors.unread_count(request.user)
    return HttpResponse(bell_html(request, unread))


def _list_context(request: HttpRequest) -> dict:
    rows = selectors.notifications_for(request.user)
    return {"notifications": rows, "has_unread": any(n.read_at is None for n in rows)}


@login_required
@require_GET
def notification_list(request: HttpRequest) -> HttpResponse:
    template = LIST + "#notification-list" if request.htmx else LIST
    return render(request, template, _list_context(request))


def _with_bell(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    unread = selectors.unread_count(request.user)
    response.content += bell_html(request, unread, oob=True).encode()
    return response


@login_required
@require_POST
def notification_read(request: HttpRequest, public_id) -> HttpResponse:
    """Marks one notification read. Someone else's is a 404, like any object not yours."""
    notifications.notification_read(user=request.user, public_id=public_id)
    row = selectors.notification_of(request.user, public_id)
    if row is None:
        raise Http404(_("No such notification."))
    if not request.htmx:
        return redirect("notifications")
    response = render(request, LIST + "#notification-item", {"n": row})
    return _with_bell(request, response)


@login_required
@require_POST
def notifications_read_all(request: HttpRequest) -> HttpResponse:
    count = notifications.notifications_read_all(user=request.user)
    if not request.htmx:
        if count:
            messages.success(request, _("All notifications are marked read."))
        return redirect("notifications")
    response = render(request, LIST + "#notification-list", _list_context(request))
    return _with_bell(request, response)


@login_required
@require_POST
def notification_preferences(request: HttpRequest) -> HttpResponse:
    """The email choices of the settings page."""
    form = preferences_form(request.user, request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose one of the offered options for each kind."))
        return redirect("settings")
    notifications.preferences_update(user=request.user, choices=form.cleaned_data)
    messages.success(request, _("Your email choices are saved."))
    return redirect("settings")


@login_required
@require_http_methods(["GET", "POST"])
def slot_watch(request: HttpRequest, public_id) -> HttpResponse:
    """GET: whether you watch the slot, with the button; POST `watch=on|off` changes it.
    Any member of the slot's workspace may watch it."""
    slot = slot_for(request, public_id)
    if request.method == "POST":
        wanted = request.POST.get("watch")
        if wanted not in ("on", "off"):
            return HttpResponse(_("Say watch=on or watch=off."), status=422)
        if wanted == "on":
            notifications.slot_watch(slot=slot, user=request.user)
        else:
            notifications.slot_unwatch(slot=slot, user=request.user)
        if not request.htmx:
            messages.success(
                request,
                _("You will hear what happens to this post.")
                if wanted == "on"
                else _("You no longer watch this post."),
            )
            return redirect("slot", slot.public_id)
    context = {
        "slot": slot,
        "creator": slot.created_by_id == request.user.pk,
        "watching": selectors.is_watching(slot=slot, user=request.user),
    }
    if request.htmx:
        return render(request, "notifications/watch.html#watch", context)
    return render(request, "notifications/watch_page.html", context)


@csrf_exempt  # the signed token is the authority; mail clients' one-click POST has no cookie
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """From an email, without logging in. GET asks (link scanners only GET, so they never
    unsubscribe anyone); POST turns off that kind (`scope=kind`, the default, which is
    also what a mail client's one-click unsubscribe sends) or every email (`scope=all`)."""
    try:
        found = notifications.unsubscribe_read(token)
    except notifications.UnsubscribeGone:
        return render(request, "notifications/unsubscribe.html", {"gone": True}, status=410)
    if found is None:
        return render(request, "notifications/unsubscribe.html", {"bad": True}, status=400)
    user, kind = found
    context = {"person": user, "kind": kind, "about": notifications.ABOUT.get(kind)}
    if request.method == "POST":
        scope = request.POST.get("scope", "kind")
        done = notifications.email_unsubscribe(user=user, kind=None if scope == "all" else kind)
        context["done"] = done
    return render(request, "notifications/unsubscribe.html", context)
