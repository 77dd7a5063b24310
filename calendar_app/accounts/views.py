"""A person's own settings page: their time zone, their calendar feed and their email choices."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from calendar_app.access import viewer_for
from calendar_app.accounts import selectors, services
from calendar_app.accounts.forms import FeedForm, ProfileForm
from calendar_app.interchange import ical
from calendar_app.models import Role, time_zone_choices
from calendar_app.notifications.forms import preferences_form


@login_required
@require_http_methods(["GET", "POST"])
def settings_view(request: HttpRequest) -> HttpResponse:
    profile = selectors.profile_of(request.user)
    form = ProfileForm(
        request.POST or None,
        initial={"time_zone": profile.time_zone if profile else ""},
        zones=time_zone_choices(),
    )
    if request.method == "POST" and form.is_valid():
        zone = services.profile_update(user=request.user, time_zone=form.cleaned_data["time_zone"])
        messages.success(request, f"Times are now shown in {zone or 'your workspace’s zone'}.")
        return redirect("settings")
    return _render(request, form)


def _render(request: HttpRequest, form: ProfileForm, **context) -> HttpResponse:
    context = {
        "form": form,
        "zone": viewer_for(request).zone.key,
        "feed": ical.feed_of(request.user),
        "notification_form": preferences_form(request.user),
        "manages_webhooks": bool(viewer_for(request).workspaces_with(Role.ADMIN)),
        **context,
    }
    return render(request, "calendar_app/settings.html", context)


@login_required
@require_POST
def feed_settings(request: HttpRequest) -> HttpResponse:
    """Turns the personal iCal feed on, gives it a new address, or turns it off. A new
    address is shown on this answer only: it is stored hashed and cannot be shown again."""
    form = FeedForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose what to do with the calendar feed.")
        return redirect("settings")
    if form.cleaned_data["action"] == "revoke":
        if ical.feed_revoke(user=request.user):
            messages.success(request, "Calendar feed turned off; its address no longer works.")
        return redirect("settings")
    token = ical.feed_enable(user=request.user)
    feed_url = request.build_absolute_uri(reverse("ical_feed", args=[token]))
    profile = selectors.profile_of(request.user)
    form = ProfileForm(
        initial={"time_zone": profile.time_zone if profile else ""}, zones=time_zone_choices()
    )
    return _render(request, form, feed_url=feed_url)
