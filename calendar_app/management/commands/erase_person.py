"""`manage.py erase_person <email>`: erase a person's data on request."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from calendar_app.core.refusals import Refusal
from calendar_app.portability.services import person_erase


class Command(BaseCommand):
    help = (
        "Erase a person on request: their account, memberships, tokens, feeds, notifications "
        "and sessions go; the posts, notes and comments they made stay, by 'A former member'."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("email")

    def handle(self, *args, email: str, **options) -> None:
        try:
            erasure = person_erase(email=email)
        except Refusal as refusal:
            raise CommandError(refusal.message) from refusal
        self.stdout.write(
            f"Erased {email}: {erasure.reattributed} records now by a former member, "
            f"{sum(erasure.deleted.values())} rows deleted, {erasure.sessions} sessions ended."
        )
