"""Signals the library sends, for the host project to act on (it never imports the host)."""

from __future__ import annotations

from django.dispatch import Signal

# Scripe refused a connection's key that was not already known to be invalid (revoked,
# expired, unknown, a scope missing). Sent with `connection` (the ScripeConnection), `code`
# and `message` (a sentence for people), once per change of the key's state to invalid.
key_refused = Signal()
