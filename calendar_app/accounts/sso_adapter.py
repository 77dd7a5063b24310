"""allauth's social account adapter for the workspaces' single sign-on (accounts/sso.py).

Each enabled `SingleSignOn` is served as an openid_connect SocialApp built at run time, with
the secret decrypted only in memory, so allauth's own tables hold no secret. Every request
allauth sends for it (discovery, keys, token, userinfo) goes only to an address the
destination rule allows. Before a sign-in completes, the provider's email must be verified
and allowed; the person is then connected by email or created, and made a member.
"""

from __future__ import annotations

import uuid

from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.models import SocialApp
from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from requests.adapters import HTTPAdapter
from requests.exceptions import ConnectionError as RequestsConnectionError

from calendar_app.accounts import sso
from calendar_app.models import SingleSignOn
from scripe_integration.destinations import DestinationRefused, check_url

PROVIDER = "openid_connect"


class RefusedDestination(RequestsConnectionError):
    """A request to an address the server may not call; requests' own kind of failure, so
    allauth answers it as a provider it could not reach."""


class DestinationCheckingAdapter(HTTPAdapter):
    """Checks each URL right before it is sent: the discovery document names the other
    endpoints, so the issuer's check alone would not cover them."""

    def send(self, request, *args, **kwargs):
        try:
            check_url(request.url, allow_local=sso.local_allowed())
        except DestinationRefused as refused:
            raise RefusedDestination(str(refused), request=request) from None
        return super().send(request, *args, **kwargs)


def social_app(provider: SingleSignOn) -> SocialApp:
    """The provider as allauth's app, never saved."""
    return SocialApp(
        provider=PROVIDER,
        provider_id=str(provider.public_id),
        name=provider.label,
        client_id=provider.client_id,
        secret=sso.sso_secret(provider),
        settings={"server_url": provider.issuer_url, "sso": provider.pk},
    )


def provider_of(sociallogin) -> SingleSignOn | None:
    app = getattr(sociallogin.provider, "app", None)
    pk = (app.settings or {}).get("sso") if app is not None else None
    return SingleSignOn.objects.select_related("workspace").filter(pk=pk, enabled=True).first()


def back_to_login(request, sentence: str):
    """Ends the flow on the log-in page, with the sentence."""
    messages.error(request, sentence)
    return ImmediateHttpResponse(redirect("login"))


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def list_apps(self, request, provider=None, client_id=None) -> list[SocialApp]:
        apps = super().list_apps(request, provider=provider, client_id=client_id)
        if provider not in (None, PROVIDER):
            found = SingleSignOn.objects.filter(enabled=True, public_id=_uuid(provider))
        else:
            found = SingleSignOn.objects.filter(enabled=True)
        if client_id:
            found = found.filter(client_id=client_id)
        return apps + [social_app(row) for row in found.order_by("label")]

    def get_requests_session(self):
        session = super().get_requests_session()
        checking = DestinationCheckingAdapter()
        session.mount("http://", checking)
        session.mount("https://", checking)
        return session

    def on_authentication_error(
        self, request, provider, error=None, exception=None, extra_context=None
    ) -> None:
        app = getattr(provider, "app", None)
        if app is None or not (app.settings or {}).get("sso"):
            return super().on_authentication_error(
                request, provider, error, exception, extra_context
            )
        if error == "cancelled":
            sentence = _("You cancelled signing in with %(company)s.") % {"company": app.name}
        else:
            sentence = sso.sso_failed_sentence(app.name)
        raise back_to_login(request, sentence)

    def pre_social_login(self, request, sociallogin) -> None:
        provider = provider_of(sociallogin)
        if provider is None:
            return
        # What the provider said now (not the account's stored email, which may differ).
        addresses = sorted(sociallogin.email_addresses, key=lambda a: not a.primary)
        email = addresses[0].email.strip() if addresses else ""
        verified = bool(addresses and addresses[0].verified)
        refusal = sso.sso_email_refusal(provider=provider, email=email, verified=verified)
        if refusal:
            raise back_to_login(request, refusal)
        if not sociallogin.is_existing:
            # The provider vouches for this address (verified, in an allowed domain): the
            # account that has it is theirs, if it is one the workspace's admin may vouch for.
            user = sso.sso_user_for_email(email)
            if user is not None:
                refusal = sso.sso_connect_refusal(provider=provider, user=user)
                if refusal:
                    raise back_to_login(request, refusal)
                sociallogin.connect(request, user)
        if sociallogin.is_existing:
            sso.sso_member_join(provider=provider, user=sociallogin.user)

    def is_open_for_signup(self, request, sociallogin) -> bool:
        # Open sign-up is off; a workspace's provider lets in the addresses it allows.
        if provider_of(sociallogin) is not None:
            return True
        return super().is_open_for_signup(request, sociallogin)

    def save_user(self, request, sociallogin, form=None):
        user = super().save_user(request, sociallogin, form)
        provider = provider_of(sociallogin)
        if provider is not None:
            sso.sso_member_join(provider=provider, user=user)
        return user


def _uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


# "SSO only", called by the account adapter (accounts/adapter.py) ------------------------------


def sso_only_refusal(request, user, *, signal_kwargs: dict | None):
    """For allauth's `pre_login`: a member of an "SSO only" workspace who signs in other
    than through single sign-on (a password, a code) is sent back to the log-in page with
    the sentence naming the button. Site staff are exempt (`sso.sso_password_refusal`)."""
    if (signal_kwargs or {}).get("sociallogin") is not None:
        return None
    refusal = sso.sso_password_refusal(user)
    if refusal is None:
        return None
    messages.error(request, refusal)
    return redirect("login")


def sso_only_reset_mail(adapter, user, email: str, context: dict) -> bool:
    """For allauth's `send_password_reset_mail`: to a member of an "SSO only" workspace,
    sends the way to sign in instead of a reset link, and answers True. The page after the
    request reads the same either way, so it does not tell who is whose member."""
    if sso.sso_password_refusal(user) is None:
        return False
    locked = sso.sso_only_provider_of(user)
    request = context.get("request")
    login_url = reverse("login")
    if request is not None:
        login_url = request.build_absolute_uri(login_url)
    adapter.send_mail(
        "account/email/sso_only_password_reset",
        email,
        {**context, "company": locked.label, "login_url": login_url},
    )
    return True
