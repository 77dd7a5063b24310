"""How django-allauth behaves here: nobody signs themselves up; the members of a workspace
that signs in only with single sign-on use no password (accounts/sso_adapter.py).

Accounts are made by the team: an admin (the Django admin today) or an invitation link. An
open sign-up form would let anyone on the internet make an account with no workspace."""

from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from django.http import HttpRequest

from calendar_app.accounts.sso_adapter import sso_only_refusal, sso_only_reset_mail


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        # Invitations (#28) open it for the person holding a valid link, here.
        return False

    def pre_login(self, request: HttpRequest, user, **kwargs):
        # Single sign-on only (#28): such a workspace's members sign in with its provider.
        refused = sso_only_refusal(request, user, signal_kwargs=kwargs.get("signal_kwargs"))
        return refused or super().pre_login(request, user, **kwargs)

    def send_password_reset_mail(self, user, email: str, context: dict) -> None:
        if not sso_only_reset_mail(self, user, email, context):
            super().send_password_reset_mail(user, email, context)
