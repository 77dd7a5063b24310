"""How django-allauth behaves here: nobody signs themselves up; an account email that cannot
be sent is said so to the person waiting for it; the members of a workspace that signs in
only with single sign-on use no password (accounts/sso_adapter.py).

Accounts are made by the team: an admin (the Django admin today) or an invitation link. An
open sign-up form would let anyone on the internet make an account with no workspace."""

from __future__ import annotations

import logging

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context
from django.contrib import messages
from django.http import HttpRequest
from django.utils.translation import gettext as _

from calendar_app.accounts.sso_adapter import sso_only_refusal, sso_only_reset_mail

log = logging.getLogger(__name__)


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        # An invitation link (accounts/invitations.py) makes its account itself; SSO's
        # (accounts/sso_adapter.py) decides for itself too.
        return False

    def send_mail(self, template_prefix: str, email: str, context_: dict) -> None:
        """Sends within the request (a reset or confirmation link is secret, and a queued task
        would keep it in the task table); when the mail server fails, the page says so
        instead of a server error, and nothing else is undone."""
        try:
            super().send_mail(template_prefix, email, context_)
        except OSError as error:  # smtplib's errors and a refused connection alike
            # Neither the address nor the message: the message holds the link.
            log.warning("Account email %s not sent: %s", template_prefix, type(error).__name__)
            request = context.request
            if request is not None:
                messages.error(
                    request,
                    _(
                        "The email could not be sent just now: our mail server did not take "
                        "it. Please try again in a few minutes."
                    ),
                )

    def pre_login(self, request: HttpRequest, user, **kwargs):
        # Single sign-on only (#28): such a workspace's members sign in with its provider.
        refused = sso_only_refusal(request, user, signal_kwargs=kwargs.get("signal_kwargs"))
        return refused or super().pre_login(request, user, **kwargs)

    def send_password_reset_mail(self, user, email: str, context: dict) -> None:
        if not sso_only_reset_mail(self, user, email, context):
            super().send_password_reset_mail(user, email, context)
