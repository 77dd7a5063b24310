"""A person's own settings page: their time zone, their calendar feed, their email choices and
their API tokens (an admin also sees, and may revoke, their workspaces' tokens); and, for a
workspace's admins, its single sign-on page: set up, change or remove the OpenID Connect
provider, whose client secret is never shown back."""

from __future__ import annotations

from allauth.socialaccount.providers.openid_connect import views as openid_connect_views
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST
from requests import RequestException

from calendar_app.access import token_for, viewer_for, workspace_for
from calendar_app.accounts import selectors, services, sso, tokens, two_factor
from calendar_app.accounts.forms import FeedForm, ProfileForm, TokenForm, TwoFactorPolicyForm
from calendar_app.accounts.sso_forms import SingleSignOnForm
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
        # Sign-in and security (#28): the person's second factor, and the two-factor rule of
        # each workspace they administer.
        "has_second_factor": two_factor.has_second_factor(request.user),
        "two_factor_workspaces": viewer.workspaces_with(Role.ADMIN),
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
        workspace = workspace_for(
            viewer, data["workspace"], role=Role.EDITOR, to=gettext_noop("make tokens")
        )
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
        messages.success(
            request, _("Token “%(name)s” revoked; it no longer works.") % {"name": token.name}
        )
    else:
        messages.info(request, _("Token “%(name)s” was already revoked.") % {"name": token.name})
    return redirect(reverse("settings") + "#api-tokens")


@login_required
@require_POST
def workspace_two_factor(request: HttpRequest, workspace_id) -> HttpResponse:
    """A workspace admin sets whether the workspace requires two factors of its admins or of
    everyone (the same two settings as the Django admin's workspace page)."""
    workspace = workspace_for(
        viewer_for(request),
        workspace_id,
        role=Role.ADMIN,
        to=gettext_noop("change its sign-in rules"),
    )
    form = TwoFactorPolicyForm(request.POST)
    form.is_valid()  # two checkboxes: every input is valid, an absent one is off
    services.workspace_two_factor_update(
        workspace=workspace,
        admins=form.cleaned_data["admins"],
        everyone=form.cleaned_data["everyone"],
    )
    messages.success(
        request,
        _("%(workspace)s's two-factor rule is saved; it applies from each person's next sign-in.")
        % {"workspace": workspace.name},
    )
    return redirect(reverse("settings") + "#sign-in")


# Single sign-on (#28) ----------------------------------------------------------------------

SSO_TO_EDIT = gettext_lazy("set up single sign-on")


@sensitive_post_parameters("client_secret")
@login_required
@require_http_methods(["GET", "POST"])
def sso_settings(request: HttpRequest, public_id) -> HttpResponse:
    workspace = workspace_for(viewer_for(request), public_id, role=Role.ADMIN, to=SSO_TO_EDIT)
    provider = sso.sso_of(workspace)
    if request.method == "POST":
        form = SingleSignOnForm(request.POST)
        if form.is_valid():
            try:
                sso.sso_save(workspace=workspace, **form.cleaned_data)
            except Refusal as refusal:
                show_on_form(form, refusal)
            else:
                messages.success(request, _("Single sign-on is saved."))
                return redirect("sso_settings", public_id=workspace.public_id)
        if form.cleaned_data.get("client_secret") and "client_secret" not in form.errors:
            # A secret is never sent back to the browser: say so, or it seems lost.
            form.add_error(
                "client_secret",
                _("Type the client secret again: it is not shown back, and nothing was saved."),
            )
        status = 422
    else:
        initial = {"label": workspace.name}
        if provider is not None:
            initial = {
                field: getattr(provider, field)
                for field in (
                    "label",
                    "issuer_url",
                    "client_id",
                    "allowed_domains",
                    "new_member_role",
                    "enabled",
                    "sso_only",
                )
            }
        form = SingleSignOnForm(initial=initial)
        status = 200
    callback = ""
    if provider is not None:
        callback = request.build_absolute_uri(
            reverse("openid_connect_callback", kwargs={"provider_id": provider.public_id})
        )
    context = {"workspace": workspace, "provider": provider, "form": form, "callback": callback}
    return render(request, "accounts/sso.html", context, status=status)


@login_required
@require_POST
def sso_remove(request: HttpRequest, public_id) -> HttpResponse:
    workspace = workspace_for(viewer_for(request), public_id, role=Role.ADMIN, to=SSO_TO_EDIT)
    provider = sso.sso_of(workspace)
    if provider is not None:
        sso.sso_delete(provider=provider)
        messages.success(request, _("Single sign-on is removed; members sign in with passwords."))
    return redirect("sso_settings", public_id=workspace.public_id)


def sso_login(request: HttpRequest, provider_id: str) -> HttpResponse:
    """allauth's openid_connect log-in (the "Sign in with <company>" button, a POST), which
    reads the provider's discovery document and redirects to its authorize page.

    The redirect becomes a page that moves on by itself: a Content-Security-Policy's
    form-action covers the redirects after a form's POST, and the provider's authorize page
    may be on any host its discovery document names. A provider that does not answer, or an
    address the server may not call, is said on the log-in page rather than as an error."""
    provider = sso.sso_enabled_by_public_id(provider_id)
    try:
        response = openid_connect_views.login(request, provider_id)
    except RequestException:
        company = provider.label if provider else _("your company")
        messages.error(request, sso.sso_failed_sentence(company))
        return redirect("login")
    target = response.get("Location", "") if response.status_code == 302 else ""
    if provider is None or not target or url_has_allowed_host_and_scheme(target, None):
        return response  # on this site: an error page, or allauth's own confirmation
    context = {"company": provider.label, "target": target}
    return shown_once.uncached(render(request, "accounts/sso_redirect.html", context))
