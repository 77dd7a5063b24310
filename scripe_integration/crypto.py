"""Encryption at rest for Scripe API keys: Fernet (AES-128-CBC + HMAC-SHA256) from `cryptography`.

`SCRIPE_KEY_ENCRYPTION_KEYS` holds one or more Fernet keys, newest first. New values are
written with the first; every listed key still decrypts, which is how a key is rotated:
put the new one in front, run `manage.py rotate_scripe_keys`, then drop the old one.
"""

from __future__ import annotations

from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


class DecryptionError(Exception):
    """The stored value was not written with any of the configured keys."""


@cache
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key) for key in keys])


def _current() -> MultiFernet:
    return _fernet(tuple(settings.SCRIPE_KEY_ENCRYPTION_KEYS))


def encrypt(plaintext: str) -> str:
    return _current().encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _current().decrypt(token.encode()).decode()
    except InvalidToken:
        raise DecryptionError(
            "The stored Scripe key cannot be decrypted with SCRIPE_KEY_ENCRYPTION_KEYS."
        ) from None


def rotate(token: str) -> str:
    """Re-encrypts a value under the newest key."""
    try:
        return _current().rotate(token.encode()).decode()
    except InvalidToken:
        raise DecryptionError("Cannot rotate a value no configured key can decrypt.") from None
