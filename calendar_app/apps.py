"""The calendar's app config: it connects the receivers of scripe_integration's signals."""

from __future__ import annotations

from django.apps import AppConfig


class CalendarAppConfig(AppConfig):
    name = "calendar_app"
    verbose_name = "Calendar"

    def ready(self) -> None:
        # Connects the receiver of scripe_integration's `key_refused` signal in every
        # process, whatever it imports first (a worker that only verifies keys, say).
        # The receivers that stamp a new session and sign out the others on a new password.
        from calendar_app.accounts import sessions  # noqa: F401
        from calendar_app.notifications import services as notifications  # noqa: F401
