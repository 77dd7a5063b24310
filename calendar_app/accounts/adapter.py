"""How django-allauth behaves here: nobody signs themselves up, and an account email that
cannot be sent is said so to the person waiting for it.

Accounts are made by the team: an admin (the Django admin today) or an invitation link. An
open sign-up form would let anyone on the internet make an account with no workspace."""

from __future__ import annotations

import logging

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context
from django.contrib import messages
from django.http import HttpRequest
from django.utils.translation import gettext as _

log = logging.getLogger(__name__)


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        # Invitations (#28) open it for the person holding a valid link, here.
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
