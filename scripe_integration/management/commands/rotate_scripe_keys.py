"""`manage.py rotate_scripe_keys`: re-encrypt every stored Scripe secret (API keys, OAuth
tokens and webhook secrets) with the newest key in SCRIPE_KEY_ENCRYPTION_KEYS. Put a new
Fernet key in front of the list, run this, then drop the old key from the list."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import Q

from scripe_integration import crypto
from scripe_integration.models import ScripeConnection


class Command(BaseCommand):
    help = (
        "Re-encrypt every stored Scripe API key, OAuth token and webhook secret with the first "
        "SCRIPE_KEY_ENCRYPTION_KEYS key."
    )

    # The OAuth tokens too: the row lock keeps a refresh from storing a new pair in between,
    # and the refresh's conditional UPDATE (on the token version, which this leaves alone)
    # still lands after it.
    FIELDS = (
        "encrypted_key",
        "encrypted_access_token",
        "encrypted_refresh_token",
        "encrypted_webhook_secret",
        "encrypted_previous_webhook_secret",
    )

    def handle(self, *args, **options) -> None:
        rotated = 0
        stored = Q()
        for name in self.FIELDS:
            stored |= ~Q(**{name: ""})
        with transaction.atomic():
            for connection in ScripeConnection.objects.select_for_update().filter(stored):
                changed = [name for name in self.FIELDS if getattr(connection, name)]
                try:
                    for name in changed:
                        setattr(connection, name, crypto.rotate(getattr(connection, name)))
                except crypto.DecryptionError as error:
                    raise CommandError(f"{connection.workspace}: {error}") from None
                connection.save(update_fields=changed)
                rotated += len(changed)
        self.stdout.write(f"Re-encrypted {rotated} Scripe secret(s) with the newest key.")
