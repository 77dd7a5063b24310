"""How django-allauth behaves here: nobody signs themselves up.

Accounts are made by the team: an admin (the Django admin today) or an invitation link. An
open sign-up form would let anyone on the internet make an account with no workspace."""

from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from django.http import HttpRequest


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        # Invitations (#28) open it for the person holding a valid link, here.
        return False
