"""A person's own settings page: their time zone, their calendar feed, their email choices and
their API tokens (an admin also sees, and may revoke, their workspaces' tokens)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from calendar_app.access import token_for, viewer_for, workspace_for
from calendar_app.accounts import selectors, services, tokens
from calendar_app.accounts.forms import FeedForm, ProfileForm, TokenForm
from calendar_app.core.refusals import Refusal
from calendar_app.interchange import ical
from calendar_app.models import Role, time_zone_choices
from calendar_app.notifications.forms import preferences_form
from calendar_app.web import shown_once
from calendar_app.web.answers import show_on_form

# The session's names of the secrets shown once on the settings page.
NEW_TOKEN, NEW_FEED = "api-token", "feed-url"


@login_required
@require_http_methods(["GET", "POST"])
def settings_view(request: HttpRequest) -> HttpResponse:
    profile = selectors.profile_of(request.user)
    form = ProfileForm(
        request.POST or None, initial=_profile_initial(profile), zones=time_zone_choices()
    )
    if request.method == "POST" and form.is_valid():
        language = form.cleaned_data["language"]
        zone = services.profile_update(
            user=request.user, time_zone=form.cleaned_data["time_zone"], language=language
        )
        # The sentence is read on the next page, which is in the language just chosen.
        with translation.override(language or translation.get_language_from_request(request)):
            messages.success(
                request,
                _("Times are now shown in %(zone)s.")
                % {"zone": zone or _("your workspace’s zone")},
            )
        return redirect("settings")
    return _render(request, form)


def _render(request: HttpRequest, form: ProfileForm, status: int = 200, **context) -> HttpResponse:
    viewer = viewer_for(request)
    new_token = shown_once.take(request, NEW_TOKEN)
    new_feed = shown_once.take(request, NEW_FEED)
    context = {
        "form": form,
        "zone": viewer.zone.key,
        "feed": ical.feed_of(request.user),
        "notification_form": preferences_form(request.user),
        "token_form": TokenForm(memberships=viewer.memberships),
        "tokens": selectors.tokens_visible(viewer),
        "manages_webhooks": bool(viewer.workspaces_with(Role.ADMIN)),
        "new_token": new_token,
        "feed_url": new_feed["secret"] if new_feed else "",
        **context,
    }
    response = render(request, "calendar_app/settings.html", context, status=status)
    return shown_once.uncached(response) if new_token or new_feed else response


def _profile_initial(profile) -> dict[str, str]:
    return {
        "time_zone": profile.time_zone if profile else "",
        "language": profile.language if profile else "",
    }


def _profile_form(request: HttpRequest) -> ProfileForm:
    profile = selectors.profile_of(request.user)
    return ProfileForm(initial=_profile_initial(profile), zones=time_zone_choices())


@login_required
@require_POST
def feed_settings(request: HttpRequest) -> HttpResponse:
    """Turns the personal iCal feed on, gives it a new address, or turns it off. A new
    address is shown once, on the settings page this redirects to: it is stored hashed and
    cannot be shown again, and a reload must not make another."""
    form = FeedForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose what to do with the calendar feed."))
        return redirect("settings")
    if form.cleaned_data["action"] == "revoke":
        if ical.feed_revoke(user=request.user):
            messages.success(request, _("Calendar feed turned off; its address no longer works."))
        return redirect("settings")
    token = ical.feed_enable(user=request.user)
    shown_once.keep(
        request, NEW_FEED, request.build_absolute_uri(reverse("ical_feed", args=[token]))
    )
    return redirect(reverse("settings") + "#calendar-feed")


@login_required
@require_http_methods(["GET", "POST"])
def api_token_create(request: HttpRequest) -> HttpResponse:
    """Makes an API token and redirects to the settings page, which shows its secret once
    (stored hashed, as the feed's address is; a reload makes no second token). A refused
    one shows why next to its fields, with what was typed. Opened by its address, this is
    the settings page's tokens."""
    if request.method == "GET":
        return redirect(reverse("settings") + "#api-tokens")
    viewer = viewer_for(request)
    form = TokenForm(request.POST, memberships=viewer.memberships)
    try:
        if not form.is_valid():
            raise Refusal(fields={"expires_in_days": _("Pick one of the expiry choices.")})
        data = form.cleaned_data
        workspace = workspace_for(viewer, data["workspace"], role=Role.EDITOR, to="make tokens")
        made = tokens.token_create(
            viewer=viewer,
            workspace=workspace,
            name=data["name"],
            scopes=data["scopes"],
            expires_in_days=data["expires_in_days"],
        )
    except Refusal as refusal:
        show_on_form(form, refusal)
        return _render(request, _profile_form(request), status=422, token_form=form)
    shown_once.keep(request, NEW_TOKEN, made.secret, name=made.token.name)
    return redirect(reverse("settings") + "#api-tokens")


@login_required
@require_POST
def api_token_revoke(request: HttpRequest, public_id) -> HttpResponse:
    """Revokes a token of one's own, or, for an admin, of their workspace: it stops at once."""
    token = token_for(viewer_for(request), public_id)
    if tokens.token_revoke(token=token):
        messages.success(request, f"Token {token.name!r} revoked; it no longer works.")
    else:
        messages.info(request, f"Token {token.name!r} was already revoked.")
    return redirect(reverse("settings") + "#api-tokens")
