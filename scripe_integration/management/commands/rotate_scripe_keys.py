"""`manage.py rotate_scripe_keys`: re-encrypt every stored Scripe key with the newest key in
SCRIPE_KEY_ENCRYPTION_KEYS. Put a new Fernet key in front of the list, run this, then drop
the old key from the list."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from scripe_integration import crypto
from scripe_integration.models import ScripeConnection


class Command(BaseCommand):
    help = "Re-encrypt every stored Scripe API key with the first SCRIPE_KEY_ENCRYPTION_KEYS key."

    def handle(self, *args, **options) -> None:
        rotated = 0
        with transaction.atomic():
            for connection in ScripeConnection.objects.select_for_update().exclude(
                encrypted_key=""
            ):
                try:
                    connection.encrypted_key = crypto.rotate(connection.encrypted_key)
                except crypto.DecryptionError as error:
                    raise CommandError(f"{connection.workspace}: {error}") from None
                connection.save(update_fields=["encrypted_key"])
                rotated += 1
        self.stdout.write(f"Re-encrypted {rotated} Scripe key(s) with the newest key.")
